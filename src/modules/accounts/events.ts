/** The accounts module's outbox events (the compiler checks producers and handlers against them). */
export interface AccountCreated {
  accountId: string;
  username: string;
}

declare module '../../platform/outbox/index.js' {
  interface OutboxTopics {
    'account.created': AccountCreated;
  }
}
