// One TypeScript worker: `node dist/worker.js caller|handler ADDRESS NAMESPACE TASK_QUEUE`.
// The caller runs the Payments workflows; the handler serves payments.v1 and errors.v1.
// It prints one `ready` line once it polls, which nexus_lab.polyglot waits for.
import * as path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { errorsHandler, paymentsHandler } from './handlers';

export const BUNDLE = path.join(__dirname, 'workflow-bundle.js');

async function main(role: string, address: string, namespace: string, taskQueue: string): Promise<void> {
  if (role !== 'caller' && role !== 'handler') {
    throw new Error(`role must be caller or handler, got ${role}`);
  }
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    namespace,
    taskQueue,
    workflowBundle: { codePath: BUNDLE },
    nexusServices: role === 'handler' ? [paymentsHandler, errorsHandler] : [],
  });
  console.log(`ready ${role} ${namespace}/${taskQueue}`);
  try {
    await worker.run(); // returns after SIGTERM/SIGINT: the SDK shuts the worker down gracefully
  } finally {
    await connection.close();
  }
}

const [role, address, namespace, taskQueue] = process.argv.slice(2);
main(role, address, namespace, taskQueue).catch((err) => {
  console.error(err);
  process.exit(1);
});
