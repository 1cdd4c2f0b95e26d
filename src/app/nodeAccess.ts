// What the redirect models need that exists only once the server listens: the pagoPA node client
// (the embedded emulator is reached at the server's own address) and the connector's public URL
// (PPAY_PUBLIC_URL, else the address it listens on). The composition root creates one NodeAccess,
// hands it to the gestionale binding and the citizen pages, and fills it after listen.

import { domainError } from '../domain/errors.ts';
import type { NodePort } from './pagopa/nodePort.ts';

export class NodeAccess {
  private client: NodePort | null = null;
  private listeningUrl: string | null = null;

  /** @param publicUrl PPAY_PUBLIC_URL when configured: it wins over the listening address. */
  constructor(private readonly publicUrl: string | null = null) {}

  /** Called once the server listens: the node client (null when none is configured) and its URL. */
  attach(node: NodePort | null, listeningUrl: string): void {
    this.client = node;
    this.listeningUrl = listeningUrl.replace(/\/+$/, '');
  }

  /** The node, or NODE_UNAVAILABLE when the connector has none (not configured, not started yet). */
  node(): NodePort {
    if (!this.client) throw domainError('NODE_UNAVAILABLE', 'no pagoPA node is configured or reachable yet');
    return this.client;
  }

  /** Base URL citizens reach the connector at, without a trailing slash. */
  connectorUrl(): string {
    const url = this.publicUrl ?? this.listeningUrl;
    if (!url) throw domainError('CONFIG_INVALID', 'the connector URL is not known before the server listens');
    return url.replace(/\/+$/, '');
  }
}
