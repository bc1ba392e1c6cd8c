/** Votes: one per account and target; the target's owner keeps the counters and calls `cast` in its transaction. */
export {
  createVotesService as createVotesModule,
  type VotesService as VotesModule,
  type VoteValue,
  type VoteTarget,
  type VoteChange,
} from './service.js';
