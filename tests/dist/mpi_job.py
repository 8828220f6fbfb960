"""What the MPI checks share: their arguments (BNLAB WORK WITH_MPI SANITIZED), the skip (exit 77,
ctest's SKIP_RETURN_CODE) when mpirun is not installed, bnlab was built without MPI, or with the
sanitizers, a fresh WORK folder, and Open MPI's launch on loopback."""
import os
import pathlib
import shutil
import sys

# Open MPI as root (CI containers) and without a cross-memory-attach permission.
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_btl_vader_single_copy_mechanism="none")
MPIRUN = ["mpirun", "--oversubscribe", "--bind-to", "none", "-np"]


def start(argv):
    """(bnlab, work) from the check's arguments, or exit 77 when the check cannot run here."""
    bnlab, work, with_mpi, sanitized = argv[1], pathlib.Path(argv[2]), argv[3], argv[4]
    if shutil.which("mpirun") is None or with_mpi.upper() in ("OFF", "0", "FALSE", ""):
        print("skipped: no mpirun, or bnlab built without MPI")
        sys.exit(77)
    if sanitized.upper() in ("ON", "1", "TRUE"):
        print("skipped in the sanitizer build: Open MPI's own allocations and memory hooks are not bnlab's to check")
        sys.exit(77)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    return bnlab, work
