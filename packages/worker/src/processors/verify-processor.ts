/** Verify: reads a repository back (all packs or a share) and fails, unrecoverably, on damage. */
import type { Job } from 'bullmq';
import { CorruptDataError, verifyRepository } from '@snapfleet/shared';
import { verifyJobSchema } from '@snapfleet/shared/jobs';
import { parsePayload } from '../job-errors.js';
import type { Processor, ProcessorDeps } from './processor-deps.js';

export function createVerifyProcessor(deps: Pick<ProcessorDeps, 'repositories' | 'log' | 'clock'>): Processor {
  return async (job: Job) => {
    const data = parsePayload(verifyJobSchema, job.data, 'verify');
    const { repo, pool } = await deps.repositories.open(data.repository);
    const report = await verifyRepository(repo, pool, {
      readDataFraction: (data.readDataSubset ?? 100) / 100,
      recordAt: deps.clock.now(),
      onProgress: (p) => void job.updateProgress({ bytesDone: p.bytesDone, bytesTotal: p.bytesTotal }).catch(() => {}),
    });
    // Notices (a pack without an index object, which maintenance adopts) are not damage.
    const problems = report.problems.filter((p) => p.severity !== 'notice');
    const summary = {
      snapshots: report.snapshots,
      packsRead: report.packsRead,
      blobsChecked: report.blobsChecked,
      problems: problems.length,
      notices: report.problems.length - problems.length,
    };
    if (problems.length) {
      const first = problems[0]!;
      throw new CorruptDataError(`verify of ${data.repository} found ${problems.length} problem(s); first: ${first.kind}: ${first.message}`);
    }
    deps.log.info({ jobId: job.id, repository: data.repository, ...summary }, 'verified');
    return summary;
  };
}
