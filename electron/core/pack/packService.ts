// Lab packs for the hosts: plan, create (a cancellable operation with pack.progress events) and
// inspect. Importing is its own service.
import type { PackCreateSummary, PackManifest, PackPlan, PackProgress } from '../../contract';
import type { Operations } from '../operations';
import { readPackManifest } from './packArchive';
import { createPack, type CreateArgs } from './packCreate';
import { planPack, planView, type PackContents, type PackDeps } from './packPlan';

export interface PackServiceDeps extends PackDeps {
  operations: Operations;
  emit(progress: PackProgress): void;
}

export class PackService {
  constructor(private readonly deps: PackServiceDeps) {}

  /** Each part with its version and size, and what cannot be carried, before anything is written. */
  async plan(contents: PackContents): Promise<PackPlan> {
    return planView(await planPack(this.deps, contents));
  }

  create(args: CreateArgs & { operationId?: string }): Promise<PackCreateSummary> {
    return this.deps.operations.run(args.operationId, (operation) =>
      createPack(this.deps, args, operation, (progress) => this.deps.emit({ operationId: operation.id, ...progress })),
    );
  }

  /** The manifest only (read and checked against the schema; members are checked by an import). */
  inspect(file: string): Promise<PackManifest> {
    return readPackManifest(file);
  }
}
