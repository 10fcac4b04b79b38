-- Linli's tables as a database made before migrations has them (postgresql): exactly what
-- the stores' create_all emitted at commit ce832e3 (tickets, handoffs, staff, channel
-- state, notifications, privacy). Frozen: tests/migrations adopts such a database.

CREATE TABLE tickets (
	id SERIAL NOT NULL,
	number VARCHAR(32) NOT NULL,
	type VARCHAR(16) NOT NULL,
	day VARCHAR(8) NOT NULL,
	seq INTEGER NOT NULL,
	status VARCHAR(16) NOT NULL,
	channel VARCHAR(32) NOT NULL,
	sender_id VARCHAR(128) NOT NULL,
	language VARCHAR(8) NOT NULL,
	unit VARCHAR(64),
	category VARCHAR(32),
	urgency VARCHAR(16),
	description TEXT NOT NULL,
	location VARCHAR(255),
	building VARCHAR(16),
	entrance VARCHAR(16),
	room VARCHAR(16),
	area VARCHAR(64),
	visit_time VARCHAR(128),
	phone VARCHAR(32),
	assignee VARCHAR(64),
	idempotency_key VARCHAR(128),
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	CONSTRAINT uq_ticket_day_seq UNIQUE (day, type, seq),
	UNIQUE (idempotency_key)
);

CREATE INDEX ix_tickets_sender_id ON tickets (sender_id);

CREATE INDEX ix_tickets_status ON tickets (status);

CREATE INDEX ix_tickets_category ON tickets (category);

CREATE INDEX ix_tickets_building ON tickets (building);

CREATE UNIQUE INDEX ix_tickets_number ON tickets (number);

CREATE TABLE ticket_counters (
	day VARCHAR(8) NOT NULL,
	type VARCHAR(16) NOT NULL,
	last_seq INTEGER NOT NULL,
	PRIMARY KEY (day, type)
);

CREATE TABLE ticket_events (
	id SERIAL NOT NULL,
	ticket_id INTEGER NOT NULL,
	at TIMESTAMP WITH TIME ZONE NOT NULL,
	actor VARCHAR(128) NOT NULL,
	action VARCHAR(32) NOT NULL,
	from_status VARCHAR(16),
	to_status VARCHAR(16),
	note TEXT,
	PRIMARY KEY (id),
	FOREIGN KEY(ticket_id) REFERENCES tickets (id) ON DELETE CASCADE
);

CREATE INDEX ix_ticket_events_ticket_id ON ticket_events (ticket_id);

CREATE TABLE ticket_attachments (
	id SERIAL NOT NULL,
	ticket_id INTEGER NOT NULL,
	kind VARCHAR(16) NOT NULL,
	ref TEXT NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(ticket_id) REFERENCES tickets (id) ON DELETE CASCADE
);

CREATE INDEX ix_ticket_attachments_ticket_id ON ticket_attachments (ticket_id);

CREATE TABLE handoffs (
	id SERIAL NOT NULL,
	sender_id VARCHAR(128) NOT NULL,
	channel VARCHAR(32) NOT NULL,
	language VARCHAR(8) NOT NULL,
	reason VARCHAR(32) NOT NULL,
	status VARCHAR(16) NOT NULL,
	agent VARCHAR(64),
	agent_name VARCHAR(128),
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	taken_at TIMESTAMP WITH TIME ZONE,
	closed_at TIMESTAMP WITH TIME ZONE,
	closed_by VARCHAR(64),
	last_resident_at TIMESTAMP WITH TIME ZONE,
	last_message TEXT,
	resident_messages INTEGER NOT NULL,
	callback_ticket VARCHAR(32),
	priority VARCHAR(16) DEFAULT 'normal' NOT NULL,
	PRIMARY KEY (id)
);

CREATE INDEX ix_handoffs_status ON handoffs (status);

CREATE INDEX ix_handoffs_sender_id ON handoffs (sender_id);

CREATE INDEX ix_handoffs_priority ON handoffs (priority);

CREATE TABLE staff_users (
	id SERIAL NOT NULL,
	username VARCHAR(64) NOT NULL,
	display_name VARCHAR(128) NOT NULL,
	password_hash VARCHAR(255) NOT NULL,
	role VARCHAR(16) NOT NULL,
	active BOOLEAN NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id)
);

CREATE UNIQUE INDEX ix_staff_users_username ON staff_users (username);

CREATE TABLE staff_sessions (
	id SERIAL NOT NULL,
	token_hash VARCHAR(64) NOT NULL,
	user_id INTEGER NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(user_id) REFERENCES staff_users (id) ON DELETE CASCADE
);

CREATE INDEX ix_staff_sessions_user_id ON staff_sessions (user_id);

CREATE UNIQUE INDEX ix_staff_sessions_token_hash ON staff_sessions (token_hash);

CREATE TABLE channel_kv (
	key VARCHAR(255) NOT NULL,
	value TEXT NOT NULL,
	expires_at FLOAT NOT NULL,
	PRIMARY KEY (key)
);

CREATE INDEX ix_channel_kv_expires_at ON channel_kv (expires_at);

CREATE TABLE channel_pending_photos (
	id SERIAL NOT NULL,
	channel VARCHAR(32) NOT NULL,
	sender_id VARCHAR(128) NOT NULL,
	ref TEXT NOT NULL,
	created_at FLOAT NOT NULL,
	PRIMARY KEY (id)
);

CREATE INDEX ix_channel_pending_photos_sender_id ON channel_pending_photos (sender_id);

CREATE TABLE notification_log (
	event_id INTEGER NOT NULL,
	ticket_number VARCHAR(32),
	outcome VARCHAR(255) NOT NULL,
	at FLOAT NOT NULL,
	PRIMARY KEY (event_id)
);

CREATE TABLE audit_log (
	id SERIAL NOT NULL,
	at FLOAT NOT NULL,
	actor VARCHAR(128) NOT NULL,
	action VARCHAR(32) NOT NULL,
	resident VARCHAR(255),
	subject VARCHAR(64),
	detail TEXT,
	PRIMARY KEY (id)
);

CREATE INDEX ix_audit_log_resident ON audit_log (resident);

CREATE INDEX ix_audit_log_actor ON audit_log (actor);

CREATE INDEX ix_audit_log_at ON audit_log (at);

CREATE TABLE linli_migrations (
	name VARCHAR(64) NOT NULL,
	at FLOAT NOT NULL,
	PRIMARY KEY (name)
);
