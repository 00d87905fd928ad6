-- Generated from app/mesibo_mock/store/tables.py by `python -m mesibo_mock.store.tables`; do not edit by hand.
CREATE TABLE IF NOT EXISTS app_sources (
	id INTEGER NOT NULL, 
	app_id INTEGER NOT NULL, 
	address VARCHAR NOT NULL, 
	first_seen FLOAT NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (app_id, address)
);

CREATE TABLE IF NOT EXISTS apps (
	id INTEGER NOT NULL, 
	name VARCHAR NOT NULL, 
	token VARCHAR NOT NULL, 
	background BOOLEAN NOT NULL, 
	fallback BOOLEAN NOT NULL, 
	ratelimit BOOLEAN NOT NULL, 
	collapse BOOLEAN NOT NULL, 
	sound BOOLEAN NOT NULL, 
	forceprod BOOLEAN NOT NULL, 
	iosfcm BOOLEAN NOT NULL, 
	webhook_url VARCHAR, 
	webhook_secret VARCHAR, 
	webhook_events VARCHAR DEFAULT 'push,message,user' NOT NULL, 
	webhook_seq INTEGER DEFAULT 0 NOT NULL, 
	debug_start FLOAT, 
	debug_end FLOAT, 
	disabled VARCHAR, 
	created FLOAT NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (token)
);

CREATE TABLE IF NOT EXISTS backend_faults (
	id INTEGER NOT NULL, 
	op VARCHAR, 
	app_token VARCHAR, 
	error VARCHAR, 
	http INTEGER, 
	delay FLOAT, 
	remaining INTEGER, 
	created FLOAT NOT NULL, 
	PRIMARY KEY (id)
);

CREATE TABLE IF NOT EXISTS credentials (
	id INTEGER NOT NULL, 
	app_id INTEGER NOT NULL, 
	platform VARCHAR NOT NULL, 
	bundle VARCHAR NOT NULL, 
	source VARCHAR NOT NULL, 
	project_id VARCHAR, 
	client_email VARCHAR, 
	sandbox BOOLEAN NOT NULL, 
	production BOOLEAN NOT NULL, 
	expiry FLOAT, 
	topics VARCHAR NOT NULL, 
	team_id VARCHAR, 
	key_fingerprint VARCHAR NOT NULL, 
	filename VARCHAR, 
	uploaded FLOAT NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (app_id, platform, bundle, source)
);

CREATE INDEX IF NOT EXISTS ix_credentials_app_id ON credentials (app_id);

CREATE TABLE IF NOT EXISTS devices (
	id INTEGER NOT NULL, 
	app_id INTEGER NOT NULL, 
	user_id INTEGER NOT NULL, 
	address VARCHAR NOT NULL, 
	platform VARCHAR NOT NULL, 
	appid VARCHAR NOT NULL, 
	push_token VARCHAR NOT NULL, 
	voip BOOLEAN NOT NULL, 
	sandbox BOOLEAN NOT NULL, 
	responds BOOLEAN NOT NULL, 
	invalid_reason VARCHAR, 
	last_sent FLOAT, 
	created FLOAT NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (app_id, push_token)
);

CREATE INDEX IF NOT EXISTS ix_devices_user ON devices (app_id, address);

CREATE TABLE IF NOT EXISTS faults (
	id INTEGER NOT NULL, 
	app_token VARCHAR, 
	address VARCHAR, 
	push_token VARCHAR, 
	error VARCHAR NOT NULL, 
	service VARCHAR NOT NULL, 
	remaining INTEGER, 
	created FLOAT NOT NULL, 
	PRIMARY KEY (id)
);

CREATE TABLE IF NOT EXISTS group_members (
	id INTEGER NOT NULL, 
	group_id INTEGER NOT NULL, 
	user_id INTEGER NOT NULL, 
	cs BOOLEAN NOT NULL, 
	cr BOOLEAN NOT NULL, 
	canpub BOOLEAN DEFAULT 1 NOT NULL, 
	cansub BOOLEAN DEFAULT 1 NOT NULL, 
	canlist BOOLEAN DEFAULT 1 NOT NULL, 
	admin INTEGER DEFAULT 0 NOT NULL, 
	created FLOAT NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (group_id, user_id)
);

CREATE INDEX IF NOT EXISTS ix_group_members_order ON group_members (group_id, id);

CREATE INDEX IF NOT EXISTS ix_group_members_user ON group_members (user_id);

CREATE TABLE IF NOT EXISTS groups (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	app_id INTEGER NOT NULL, 
	name VARCHAR NOT NULL, 
	flag INTEGER NOT NULL, 
	active BOOLEAN NOT NULL, 
	expiry INTEGER, 
	expiryext INTEGER, 
	profile VARCHAR, 
	ets FLOAT, 
	rr_last INTEGER, 
	extras VARCHAR, 
	created FLOAT NOT NULL
);

CREATE INDEX IF NOT EXISTS ix_groups_app ON groups (app_id, id);

CREATE TABLE IF NOT EXISTS journal (
	id INTEGER NOT NULL, 
	ts FLOAT NOT NULL, 
	app_id INTEGER, 
	app_token VARCHAR, 
	op VARCHAR, 
	encoding VARCHAR NOT NULL, 
	path VARCHAR NOT NULL, 
	user_agent VARCHAR NOT NULL, 
	fields TEXT NOT NULL, 
	answer TEXT NOT NULL, 
	result BOOLEAN NOT NULL, 
	diagnosis VARCHAR DEFAULT '[]' NOT NULL, 
	diagnosed BOOLEAN DEFAULT 0 NOT NULL, 
	pushes VARCHAR DEFAULT '[]' NOT NULL, 
	mid INTEGER, 
	fault BOOLEAN DEFAULT 0 NOT NULL, 
	size INTEGER DEFAULT 0 NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX IF NOT EXISTS ix_journal_app ON journal (app_id, id);

CREATE INDEX IF NOT EXISTS ix_journal_mid ON journal (mid) WHERE mid IS NOT NULL;

CREATE TABLE IF NOT EXISTS message_recipients (
	id INTEGER NOT NULL, 
	mid INTEGER NOT NULL, 
	app_token VARCHAR NOT NULL, 
	address VARCHAR NOT NULL, 
	online BOOLEAN NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX IF NOT EXISTS ix_recipients_app ON message_recipients (app_token, id);

CREATE INDEX IF NOT EXISTS ix_recipients_mid ON message_recipients (mid, id);

CREATE TABLE IF NOT EXISTS message_tallies (
	mid INTEGER NOT NULL, 
	kind VARCHAR NOT NULL, 
	part VARCHAR NOT NULL, 
	app_token VARCHAR NOT NULL, 
	n INTEGER NOT NULL, 
	first FLOAT NOT NULL, 
	last FLOAT NOT NULL, 
	PRIMARY KEY (mid, kind, part)
);

CREATE INDEX IF NOT EXISTS ix_tallies_app ON message_tallies (app_token, mid);

CREATE TABLE IF NOT EXISTS messages (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	ts FLOAT NOT NULL, 
	app_id INTEGER NOT NULL, 
	app_token VARCHAR NOT NULL, 
	from_address VARCHAR NOT NULL, 
	to_list VARCHAR, 
	gid INTEGER, 
	type INTEGER NOT NULL, 
	message TEXT NOT NULL, 
	title VARCHAR, 
	url VARCHAR, 
	expiry INTEGER DEFAULT 31536000 NOT NULL, 
	flag INTEGER DEFAULT 0 NOT NULL, 
	scheduled BOOLEAN DEFAULT 0 NOT NULL, 
	pending BOOLEAN DEFAULT 0 NOT NULL, 
	cursor INTEGER, 
	last_member INTEGER, 
	skipped VARCHAR DEFAULT '[]' NOT NULL
);

CREATE INDEX IF NOT EXISTS ix_messages_app ON messages (app_token, id);

CREATE INDEX IF NOT EXISTS ix_messages_pending ON messages (ts) WHERE pending;

CREATE TABLE IF NOT EXISTS otps (
	id INTEGER NOT NULL, 
	app_id INTEGER NOT NULL, 
	address VARCHAR NOT NULL, 
	code VARCHAR NOT NULL, 
	tries INTEGER NOT NULL, 
	expires FLOAT NOT NULL, 
	created FLOAT NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX IF NOT EXISTS ix_otps_app ON otps (app_id, address);

CREATE INDEX IF NOT EXISTS ix_otps_recent ON otps (app_id, id);

CREATE TABLE IF NOT EXISTS pushes (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	ts FLOAT NOT NULL, 
	app_token VARCHAR NOT NULL, 
	app_name VARCHAR NOT NULL, 
	address VARCHAR NOT NULL, 
	device_id INTEGER NOT NULL, 
	push_token VARCHAR NOT NULL, 
	platform VARCHAR NOT NULL, 
	service VARCHAR NOT NULL, 
	push_type VARCHAR NOT NULL, 
	kind VARCHAR NOT NULL, 
	status VARCHAR NOT NULL, 
	reason VARCHAR, 
	debug BOOLEAN NOT NULL, 
	request TEXT, 
	response TEXT, 
	acked BOOLEAN NOT NULL, 
	fallback_due FLOAT, 
	mid INTEGER, 
	follows INTEGER, 
	injected BOOLEAN NOT NULL
);

CREATE INDEX IF NOT EXISTS ix_pushes_address ON pushes (address, id);

CREATE INDEX IF NOT EXISTS ix_pushes_app ON pushes (app_token, id);

CREATE INDEX IF NOT EXISTS ix_pushes_fallback ON pushes (fallback_due) WHERE fallback_due IS NOT NULL;

CREATE INDEX IF NOT EXISTS ix_pushes_fallbacks ON pushes (id) WHERE kind = 'fallback';

CREATE INDEX IF NOT EXISTS ix_pushes_mid ON pushes (mid) WHERE mid IS NOT NULL;

CREATE TABLE IF NOT EXISTS testpushes (
	id INTEGER NOT NULL, 
	app_id INTEGER NOT NULL, 
	ts FLOAT NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX IF NOT EXISTS ix_testpushes_app ON testpushes (app_id, ts);

CREATE TABLE IF NOT EXISTS uacs (
	id INTEGER NOT NULL, 
	app_id INTEGER NOT NULL, 
	uac_id INTEGER NOT NULL, 
	name VARCHAR NOT NULL, 
	body TEXT NOT NULL, 
	created FLOAT NOT NULL, 
	updated FLOAT NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (app_id, uac_id)
);

CREATE TABLE IF NOT EXISTS user_tokens (
	id INTEGER NOT NULL, 
	app_id INTEGER NOT NULL, 
	user_id INTEGER NOT NULL, 
	appid VARCHAR NOT NULL, 
	token VARCHAR NOT NULL, 
	expires FLOAT NOT NULL, 
	extras VARCHAR, 
	created FLOAT NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX IF NOT EXISTS ix_user_tokens_user ON user_tokens (user_id, appid);

CREATE TABLE IF NOT EXISTS users (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	app_id INTEGER NOT NULL, 
	address VARCHAR NOT NULL, 
	name VARCHAR NOT NULL, 
	active BOOLEAN NOT NULL, 
	flag INTEGER NOT NULL, 
	profile VARCHAR, 
	online BOOLEAN NOT NULL, 
	lastonline FLOAT, 
	offline_notified BOOLEAN DEFAULT 0 NOT NULL, 
	uac INTEGER, 
	extras VARCHAR, 
	created FLOAT NOT NULL, 
	UNIQUE (app_id, address)
);

CREATE TABLE IF NOT EXISTS webhook_attempts (
	id INTEGER NOT NULL, 
	app_token VARCHAR NOT NULL, 
	delivery_id INTEGER NOT NULL, 
	url VARCHAR NOT NULL, 
	attempt INTEGER NOT NULL, 
	status_code INTEGER, 
	error VARCHAR, 
	duration_ms FLOAT NOT NULL, 
	ok BOOLEAN NOT NULL, 
	ts FLOAT NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX IF NOT EXISTS ix_attempts_app ON webhook_attempts (app_token, id);

CREATE INDEX IF NOT EXISTS ix_attempts_delivery ON webhook_attempts (delivery_id);

CREATE TABLE IF NOT EXISTS webhook_deliveries (
	id INTEGER NOT NULL, 
	app_token VARCHAR NOT NULL, 
	seq INTEGER NOT NULL, 
	url VARCHAR NOT NULL, 
	payload TEXT NOT NULL, 
	event_count INTEGER NOT NULL, 
	attempts INTEGER NOT NULL, 
	next_at FLOAT, 
	claimed_until FLOAT, 
	state VARCHAR NOT NULL, 
	note VARCHAR, 
	created FLOAT NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX IF NOT EXISTS ix_deliveries_app ON webhook_deliveries (app_token, id);

CREATE INDEX IF NOT EXISTS ix_deliveries_due ON webhook_deliveries (app_token, next_at) WHERE next_at IS NOT NULL;

CREATE TABLE IF NOT EXISTS webhook_events (
	id INTEGER NOT NULL, 
	delivery_id INTEGER NOT NULL, 
	app_token VARCHAR NOT NULL, 
	type VARCHAR NOT NULL, 
	body TEXT NOT NULL, 
	push_id INTEGER, 
	mid INTEGER, 
	ts FLOAT NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX IF NOT EXISTS ix_events_app ON webhook_events (app_token, id);

CREATE INDEX IF NOT EXISTS ix_events_delivery ON webhook_events (delivery_id);

CREATE INDEX IF NOT EXISTS ix_events_mid ON webhook_events (mid) WHERE mid IS NOT NULL;

CREATE INDEX IF NOT EXISTS ix_events_push ON webhook_events (push_id) WHERE push_id IS NOT NULL;
