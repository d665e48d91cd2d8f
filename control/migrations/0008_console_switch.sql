-- Whether browser consoles may be opened on an instance (1) or not (0). Admins switch it in the
-- instance's settings; dployrd's own `--no-console` refuses them whatever this says.
ALTER TABLE instances ADD COLUMN console_enabled BIGINT NOT NULL DEFAULT 1;
