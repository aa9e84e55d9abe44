import { CreatePack } from './pack/CreatePack';
import { ImportPack } from './pack/ImportPack';

/** Lab packs: everything an offline classroom needs in one file — create one here, import it on each laptop. */
export function PackPage() {
  return (
    <section className="pack-page" aria-label="Lab packs">
      <header className="page-header">
        <h1>Lab packs</h1>
      </header>
      <p className="lead">
        One file with what a classroom or field site without internet needs: arduino-cli, board cores, libraries,
        firmware builds, the stack&apos;s images and encrypted profiles. Make it on a connected machine, then import it
        on each laptop. Paths are on the machine running Makerdeck.
      </p>
      <CreatePack />
      <ImportPack />
    </section>
  );
}
