// The Python Fraud team's `fraud.v1`, declared again by the TypeScript Payments team.
// Nothing is shared but names: service and operation names, and the JSON fields of each type.
import * as nexus from 'nexus-rpc';

export const FRAUD_ENDPOINT = 'fraud-detection';

// The Python dataclasses travel as JSON objects with their Python field names: snake_case.
export interface Transaction {
  id: string;
  amount: number;
  country: string;
}

export interface QuickScore {
  transaction_id: string;
  score: number;
}

export interface Verdict {
  transaction_id: string;
  approved: boolean;
  reason: string;
}

export const fraudService = nexus.service('fraud.v1', {
  checkTransaction: nexus.operation<Transaction, Verdict>(),
  getQuickScore: nexus.operation<Transaction, QuickScore>(),
});
