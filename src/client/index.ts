/** The Goten client library: attested, encrypted access to an enclave service (docs/flows.md). */
export { connectEnclave, EnclaveClient, EnclaveClientError, sha256Hex, type ConnectOptions } from './enclave-client.js';
export { uploadDataset, startTraining, trainingStatus, waitForTraining, downloadModel } from './flows.js';
export type { UploadResult, TrainParams, TrainingStatus } from './flows.js';
export { sealToOwner, openOwnerBox, writeOwnerKey, loadOwnerPrivateKey, loadOwnerPublicKey, ownerKeyHex } from '../wire/owner-box.js';
export { decodeDatasetFile, encodeDatasetFile, type Answer, type QueryForm } from '../wire/codec.js';
export { parseServiceConfig, serviceBindingNonce, type ServiceConfig } from '../wire/service-config.js';
export { ChannelError } from '../wire/channel.js';
