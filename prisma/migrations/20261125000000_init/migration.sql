-- CreateTable
CREATE TABLE "spec_workflow_run" (
    "id" UUID NOT NULL,
    "repository" TEXT NOT NULL,
    "installation_id" BIGINT NOT NULL,
    "feature_key" TEXT NOT NULL,
    "phase_number" TEXT,
    "phase_title" TEXT,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "conclusion" TEXT,
    "current_step" TEXT NOT NULL DEFAULT 'intake',
    "trigger_kind" TEXT NOT NULL,
    "trigger_actor" TEXT NOT NULL,
    "trigger_delivery_id" TEXT,
    "issue_number" INTEGER,
    "comment_id" BIGINT,
    "clone_url" TEXT NOT NULL,
    "default_branch" TEXT NOT NULL,
    "branch_name" TEXT NOT NULL,
    "base_sha" TEXT,
    "head_sha" TEXT,
    "pr_number" INTEGER,
    "pr_url" TEXT,
    "codex_thread_id" TEXT,
    "check_run_id" BIGINT,
    "progress_comment_id" BIGINT,
    "artifacts_path" TEXT,
    "created_by" TEXT NOT NULL,
    "summary" TEXT,
    "error_code" TEXT,
    "error_message" TEXT,
    "error_step" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "spec_workflow_run_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "spec_workflow_task_state" (
    "id" BIGSERIAL NOT NULL,
    "run_id" UUID NOT NULL,
    "task_name" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "payload" JSONB,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "spec_workflow_task_state_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "step_output" (
    "run_id" UUID NOT NULL,
    "step" TEXT NOT NULL,
    "data" JSONB NOT NULL,
    "patch" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "step_output_pkey" PRIMARY KEY ("run_id","step")
);

-- CreateTable
CREATE TABLE "workflow_artifact" (
    "id" UUID NOT NULL,
    "run_id" UUID NOT NULL,
    "step" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "artifact_type" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "size_bytes" BIGINT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "workflow_artifact_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "workflow_credential_audit" (
    "id" BIGSERIAL NOT NULL,
    "run_id" UUID NOT NULL,
    "github_status" TEXT NOT NULL,
    "codex_status" TEXT NOT NULL,
    "notes" TEXT,
    "checked_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "workflow_credential_audit_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_delivery" (
    "id" TEXT NOT NULL,
    "event" TEXT NOT NULL,
    "action" TEXT,
    "installation_id" BIGINT,
    "repository" TEXT,
    "trigger" JSONB NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_delivery_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "spec_workflow_run_repository_feature_key_idx" ON "spec_workflow_run"("repository", "feature_key");

-- CreateIndex
CREATE INDEX "spec_workflow_run_status_idx" ON "spec_workflow_run"("status");

-- CreateIndex
CREATE INDEX "spec_workflow_run_created_at_idx" ON "spec_workflow_run"("created_at");

-- CreateIndex
CREATE UNIQUE INDEX "spec_workflow_task_state_run_id_task_name_attempt_key" ON "spec_workflow_task_state"("run_id", "task_name", "attempt");

-- CreateIndex
CREATE UNIQUE INDEX "workflow_artifact_run_id_artifact_type_path_key" ON "workflow_artifact"("run_id", "artifact_type", "path");

-- AddForeignKey
ALTER TABLE "spec_workflow_task_state" ADD CONSTRAINT "spec_workflow_task_state_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "spec_workflow_run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "step_output" ADD CONSTRAINT "step_output_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "spec_workflow_run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "workflow_artifact" ADD CONSTRAINT "workflow_artifact_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "spec_workflow_run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "workflow_credential_audit" ADD CONSTRAINT "workflow_credential_audit_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "spec_workflow_run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- One active run per (repository, feature). Prisma's schema language has no
-- partial indexes, so this lives only here (see the comment in schema.prisma).
CREATE UNIQUE INDEX "spec_workflow_run_one_active_per_feature" ON "spec_workflow_run"("repository", "feature_key")
    WHERE "status" IN ('pending', 'running', 'cancelling');
