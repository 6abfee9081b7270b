export type CaseState = 'open' | 'closed';

export interface Case {
  number: string;
  state: CaseState;
  owner: string;
  createdAt: string;
  closedAt?: string;
}

/** The case registry as the other stages see it; the SMTP door calls `get` for every message. */
export interface CaseRegistry {
  get(number: string): Promise<Case | null>;
  open(number: string, owner: string): Promise<Case>;
  close(number: string): Promise<Case>;
  reopen(number: string): Promise<Case>;
  list(state?: CaseState): Promise<Case[]>;
}
