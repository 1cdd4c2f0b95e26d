// A small XML writer for the messages the connector builds itself (SOAP envelopes, faults, KO
// answers): every text and attribute value is escaped here, so no caller concatenates raw values.

export type XmlChild = XmlNode | string | null | undefined | false;

export interface XmlNode {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: readonly XmlChild[];
}

export function el(name: string, attrs: Record<string, string> | null, ...children: XmlChild[]): XmlNode {
  return { name, attrs: attrs ?? {}, children };
}

/** A leaf element with text content; omitted when the value is undefined or null. */
export function leaf(name: string, value: string | number | undefined | null): XmlNode | null {
  return value === undefined || value === null ? null : el(name, null, String(value));
}

// XML 1.0 forbids most control characters even as references: drop them rather than emit bad XML.
// eslint-disable-next-line no-control-regex
const INVALID_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

export function escapeText(value: string): string {
  return value.replace(INVALID_CHARS, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function escapeAttr(value: string): string {
  return escapeText(value)
    .replace(/"/g, '&quot;')
    .replace(/\r/g, '&#13;')
    .replace(/\n/g, '&#10;')
    .replace(/\t/g, '&#9;');
}

export function serialize(node: XmlNode): string {
  const attrs = Object.entries(node.attrs)
    .map(([k, v]) => ` ${k}="${escapeAttr(v)}"`)
    .join('');
  const inner = node.children
    .filter((c): c is XmlNode | string => c !== null && c !== undefined && c !== false)
    .map((c) => (typeof c === 'string' ? escapeText(c) : serialize(c)))
    .join('');
  return `<${node.name}${attrs}>${inner}</${node.name}>`;
}

export function document(root: XmlNode): string {
  return `<?xml version="1.0" encoding="UTF-8"?>${serialize(root)}`;
}
