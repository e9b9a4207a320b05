import type { Problem } from '../../common/checks';

/** A test request that cannot be signed with what is stored (only a public key): said to the admin. */
export class CannotSign extends Error {
  constructor(readonly problem: Problem) {
    super(problem.text);
    this.name = 'CannotSign';
  }
}
