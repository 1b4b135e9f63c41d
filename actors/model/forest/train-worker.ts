/** Worker thread of trainMany: trains the forests it is sent, one at a time, and posts back their bytes. */
import { parentPort } from 'node:worker_threads';
import { trainForest } from './train-forest.ts';
import type { TrainReply, TrainRequest } from './train-worker-protocol.ts';

const port = parentPort;
if (!port) throw new Error('train-worker.ts must run in a worker thread (see train-many.ts)');

port.on('message', (request: TrainRequest) => {
  let reply: TrainReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const bytes = trainForest(request.x, request.y, request.nFeatures, request.options).toBuffer();
    // A fresh copy owns its whole ArrayBuffer, so handing the buffer over moves exactly the forest.
    const forest = new Uint8Array(bytes);
    reply = { type: 'trained', jobIndex: request.jobIndex, forest };
    transfer = [forest.buffer];
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    reply = { type: 'failed', jobIndex: request.jobIndex, error: { name: e.name, message: e.message } };
  }
  port.postMessage(reply, transfer);
});
