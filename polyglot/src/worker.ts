// The TypeScript team's workers in one Node.js process:
//   node dist/worker.js ADDRESS NAMESPACE caller=TASK_QUEUE handler=TASK_QUEUE
// The caller worker runs the Payments workflows; the handler worker serves payments.v1 and errors.v1
// (and runs refundWorkflow, which backs `refund`). Each prints one `ready <role>` line once it polls,
// which nexus_lab.polyglot waits for.
import * as path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { errorsHandler, paymentsHandler } from './handlers';

const BUNDLE = path.join(__dirname, 'workflow-bundle.js');
const ROLES = ['caller', 'handler'];

async function main(address: string, namespace: string, assignments: string[]): Promise<void> {
  const connection = await NativeConnection.connect({ address });
  const workers = await Promise.all(
    assignments.map(async (assignment) => {
      const [role, taskQueue] = assignment.split('=');
      if (!ROLES.includes(role) || !taskQueue) {
        throw new Error(`expected caller=TASK_QUEUE or handler=TASK_QUEUE, got ${assignment}`);
      }
      const worker = await Worker.create({
        connection,
        namespace,
        taskQueue,
        workflowBundle: { codePath: BUNDLE },
        nexusServices: role === 'handler' ? [paymentsHandler, errorsHandler] : [],
      });
      console.log(`ready ${role} ${namespace}/${taskQueue}`);
      return worker;
    })
  );
  try {
    await Promise.all(workers.map((worker) => worker.run())); // all return after SIGTERM/SIGINT
  } finally {
    await connection.close();
  }
}

const [address, namespace, ...assignments] = process.argv.slice(2);
main(address, namespace, assignments).catch((err) => {
  console.error(err);
  process.exit(1);
});
