// The node services the emulator serves (DESIGN §5), built with the literal operation names of
// NodoPerPa.wsdl and nodeForPa.wsdl. NodeFaults become KO answers with a PPT_* faultBean; a body
// that breaks the schema is PPT_SINTASSI_EXTRAXSD; a DomainError is PPT_SYSTEM_ERROR; anything else
// gets the server's fixed soap:Server Fault (src/soap/server.ts).

import type { DomainError } from '../../domain/errors.ts';
import type { SoapContext } from '../../soap/guard.ts';
import type { OperationHandler, SoapServiceBinding } from '../../soap/server.ts';
import { NodeFault, nodeFaultBean, nodeKoAnswer, nodeKoObject } from '../faults.ts';
import type { NodeDeps } from './common.ts';
import { nodoChiediCopiaRT } from './nodoChiediCopiaRT.ts';
import { nodoChiediElencoFlussiRendicontazione } from './nodoChiediElencoFlussiRendicontazione.ts';
import { nodoChiediFlussoRendicontazione } from './nodoChiediFlussoRendicontazione.ts';
import { nodoChiediListaPendentiRPT } from './nodoChiediListaPendentiRPT.ts';
import { nodoChiediStatoRPT } from './nodoChiediStatoRPT.ts';
import { nodoInviaCarrelloRPT } from './nodoInviaCarrelloRPT.ts';
import { nodoInviaRPT } from './nodoInviaRPT.ts';

type NodeOperation = (deps: NodeDeps, args: Record<string, unknown>, ctx: SoapContext) => Promise<object>;

function handler(deps: NodeDeps, operation: NodeOperation): OperationHandler {
  return async (args, ctx) => {
    try {
      return await operation(deps, args, ctx);
    } catch (err) {
      if (err instanceof NodeFault) return nodeKoObject(ctx.operation.name, err.bean);
      throw err;
    }
  };
}

function binding(wsdl: string, handlers: Record<string, OperationHandler>): SoapServiceBinding {
  return {
    wsdl,
    handlers,
    businessError: (_err: DomainError, ctx: SoapContext) =>
      nodeKoObject(
        ctx.operation.name,
        nodeFaultBean('PPT_SYSTEM_ERROR', `correlationId ${ctx.correlationId}`),
      ),
    rejectSchema: (operation, _identity, detail) =>
      nodeKoAnswer(operation, nodeFaultBean('PPT_SINTASSI_EXTRAXSD', detail)),
  };
}

export function nodeBindings(deps: NodeDeps): SoapServiceBinding[] {
  return [
    binding('NodoPerPa.wsdl', {
      nodoInviaRPT: handler(deps, nodoInviaRPT),
      nodoInviaCarrelloRPT: handler(deps, nodoInviaCarrelloRPT),
      nodoChiediStatoRPT: handler(deps, nodoChiediStatoRPT),
      nodoChiediCopiaRT: handler(deps, nodoChiediCopiaRT),
      nodoChiediListaPendentiRPT: handler(deps, nodoChiediListaPendentiRPT),
      nodoChiediElencoFlussiRendicontazione: handler(deps, nodoChiediElencoFlussiRendicontazione),
      nodoChiediFlussoRendicontazione: handler(deps, nodoChiediFlussoRendicontazione),
    }),
    binding('nodeForPa.wsdl', {
      nodoChiediElencoFlussiRendicontazione: handler(deps, nodoChiediElencoFlussiRendicontazione),
      nodoChiediFlussoRendicontazione: handler(deps, nodoChiediFlussoRendicontazione),
    }),
  ];
}
