-- Up Migration
-- A trigger function that stamps updated_at; created in the tenant's schema.
CREATE FUNCTION set_updated_at() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$;
ALTER TABLE projects ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE tasks ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
CREATE TRIGGER projects_updated_at BEFORE UPDATE ON projects FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER tasks_updated_at BEFORE UPDATE ON tasks FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Down Migration
DROP TRIGGER tasks_updated_at ON tasks;
DROP TRIGGER projects_updated_at ON projects;
ALTER TABLE tasks DROP COLUMN updated_at;
ALTER TABLE projects DROP COLUMN updated_at;
DROP FUNCTION set_updated_at();
