-- Run and step changes are announced on the channel `speckit_run_events`, so
-- that every web process (the SSE stream of the REST API) hears changes made
-- by any worker process. NOTIFY is delivered at commit and dropped on
-- rollback, so listeners only ever see stored state. Payloads stay small
-- (far below NOTIFY's 8000-byte limit): listeners read the rest from the tables.

CREATE OR REPLACE FUNCTION "speckit_notify_run_change"() RETURNS trigger AS $$
DECLARE
    row_data RECORD;
BEGIN
    IF TG_OP = 'DELETE' THEN
        row_data := OLD;
    ELSE
        row_data := NEW;
    END IF;
    PERFORM pg_notify('speckit_run_events', json_build_object(
        'type', 'run',
        'op', lower(TG_OP),
        'runId', row_data."id",
        'repository', row_data."repository",
        'featureKey', row_data."feature_key",
        'status', row_data."status",
        'currentStep', row_data."current_step",
        'conclusion', row_data."conclusion",
        'updatedAt', row_data."updated_at"
    )::text);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION "speckit_notify_task_change"() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('speckit_run_events', json_build_object(
        'type', 'task',
        'op', lower(TG_OP),
        'runId', NEW."run_id",
        'taskName', NEW."task_name",
        'attempt', NEW."attempt",
        'status', NEW."status"
    )::text);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION "speckit_notify_artifact_change"() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('speckit_run_events', json_build_object(
        'type', 'artifact',
        'op', lower(TG_OP),
        'runId', NEW."run_id",
        'artifactId', NEW."id",
        'artifactType', NEW."artifact_type"
    )::text);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- An UPDATE that changes nothing (e.g. a repeated write) stays quiet.
CREATE TRIGGER "spec_workflow_run_notify_insert_delete"
    AFTER INSERT OR DELETE ON "spec_workflow_run"
    FOR EACH ROW EXECUTE FUNCTION "speckit_notify_run_change"();

CREATE TRIGGER "spec_workflow_run_notify_update"
    AFTER UPDATE ON "spec_workflow_run"
    FOR EACH ROW
    WHEN (OLD.* IS DISTINCT FROM NEW.*)
    EXECUTE FUNCTION "speckit_notify_run_change"();

CREATE TRIGGER "spec_workflow_task_state_notify"
    AFTER INSERT OR UPDATE ON "spec_workflow_task_state"
    FOR EACH ROW EXECUTE FUNCTION "speckit_notify_task_change"();

CREATE TRIGGER "workflow_artifact_notify"
    AFTER INSERT OR UPDATE ON "workflow_artifact"
    FOR EACH ROW EXECUTE FUNCTION "speckit_notify_artifact_change"();
