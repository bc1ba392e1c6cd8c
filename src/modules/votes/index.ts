/** Votes: one per account and target; the target's owner keeps the counters and calls `cast` in its transaction. */
export { createVotesModule, type VotesModule } from './module.js';
export type { VoteValue, VoteTarget, VoteChange } from './service.js';
