// Where the project's contracts live on disk: the XSDs (source of truth) and the generated WSDLs.

import path from 'node:path';

export const PROJECT_ROOT = path.resolve(import.meta.dirname, '../..');
export const XSD_DIR = path.join(PROJECT_ROOT, 'xsd');
export const WSDL_DIR = path.join(PROJECT_ROOT, 'wsdl');

/** Target namespace of xsd/flows/ppay-flows.xsd (drop-folder files, outcomes, reconciliation export). */
export const FLOWS_NS = 'http://ppay-connector.it/flows/v1';
