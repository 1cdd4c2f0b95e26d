// node-soap would turn xs:decimal into a float and xs:dateTime into a Date in the process's zone:
// servers and clients alike keep the text, so money stays exact and times keep their written
// offset; the domain parses them.

const KEEP_TEXT = (text: string) => text;

export const TEXT_DESERIALIZERS: Readonly<Record<string, (text: string) => string>> = Object.fromEntries(
  [
    'decimal',
    'double',
    'float',
    'int',
    'integer',
    'long',
    'short',
    'boolean',
    'bool',
    'date',
    'dateTime',
  ].map((t) => [t, KEEP_TEXT]),
);
