-- GitHub write pacing shared by every process of the app (src/github/write-slots.ts).
-- GitHub's secondary rate limits count writes per installation, not per process:
-- one row per bucket (`write:<installation>` / `notify:<installation>`) holds the
-- theoretical arrival time of the next write (GCRA), so N worker processes
-- together keep the pace one process would.
CREATE TABLE "github_write_slot" (
    "key" TEXT NOT NULL,
    "tat" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "github_write_slot_pkey" PRIMARY KEY ("key")
);
