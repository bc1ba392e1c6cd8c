import { pick } from '../../platform/pick.js';
import { createVotesService, type VotesDeps, type VotesService } from './service.js';

/** Votes has no routes: the target's owner (posts, comments) serves them and calls these in its transaction. */
export interface VotesModule {
  first: VotesService['first'];
  cast: VotesService['cast'];
  mine: VotesService['mine'];
  mineOf: VotesService['mineOf'];
}

export function createVotesModule(deps: VotesDeps): VotesModule {
  const service = createVotesService(deps);
  return pick(service, ['first', 'cast', 'mine', 'mineOf']);
}
