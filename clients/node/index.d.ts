// Types for mesibo-mock's Node client: every function and every record the emulator answers with.
// The names are the Python MesiboMock's in camelCase; record fields are the server's own (snake_case).

/** Mesibo's answer to a backend call: `result` and, on failure, Mesibo's error row word for word. */
export interface Envelope {
  op: string | null;
  result: boolean;
  id?: number;
  error?: string;
  code?: number;
  cause?: string;
  action?: string;
  properties?: string[];
  retry_after?: number;
  [field: string]: unknown;
}

export interface PushRequest {
  method: "POST";
  url: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

export interface PushResponse {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown> | null;
}

/** What would have been sent to Google (FCM) or Apple (APNs), and their answer. */
export interface PushRecord {
  id: number;
  ts: string;
  app: string;
  app_name: string;
  address: string;
  device: number;
  push_token: string;
  platform: "android" | "ios";
  service: "fcm" | "apn";
  push_type: "background" | "alert" | "voip";
  kind: "test" | "message" | "fallback";
  status: "sent" | "failed" | "throttled";
  reason: string | null;
  debug: boolean;
  acked: boolean;
  fallback_due: string | null;
  mid: number | null;
  follows: number | null;
  injected: boolean;
  request: PushRequest | null;
  response: PushResponse | null;
}

export interface Recipient {
  address: string;
  online: boolean;
  pushes: number[];
}

/** A message sent through the backend (`message` op), with who it reached. */
export interface MessageRecord {
  mid: number;
  ts: string;
  app: string;
  from: string;
  to: string[] | null;
  gid: number | null;
  type: number;
  message: string;
  title: string | null;
  url: string | null;
  expiry: number;
  flag: number;
  scheduled: boolean;
  delivering: boolean;
  recipients: Recipient[];
  recipients_total: number;
  skipped: string[];
  pushes: number[];
  pushes_total: number;
}

export interface UserRef {
  uid: number;
  address: string;
}

/** One event of Mesibo's webhook (v2), as the emulator sent it, with where it went. */
export interface WebhookEvent {
  id?: number;
  delivery?: number;
  app?: string;
  ts?: string;
  type: "user" | "message" | "push";
  user?: UserRef;
  status?: "online" | "offline";
  message?: {
    mid: number;
    from: string;
    to: string[] | null;
    gid: number | null;
    type: number;
    ts: number;
    message: string;
    title?: string;
    url?: string;
  };
  push?: Partial<PushRecord>;
}

/** One POST a webhook receiver got: Mesibo's v2 envelope. */
export interface WebhookPost {
  server: "mesibo";
  id: number;
  v: 2;
  aid: number;
  ts: number;
  secret?: string;
  events: WebhookEvent[];
}

export interface Note {
  field?: string;
  problem: string;
  hint?: string;
  kind: string;
}

/** One backend call, as the request journal keeps it. */
export interface JournalEntry {
  id: number;
  ts: string;
  app: string | null;
  op: string | null;
  encoding: "json" | "form" | "multipart" | "query";
  path: string;
  user_agent: string;
  fields: Record<string, unknown>;
  answer: Envelope | { http: number; body: string };
  diagnosis: Note[];
  pushes: number[];
  mid?: number;
  fault?: true;
}

/** What strict mode fails a test for, with the line of text it fails with. */
export interface Mistake {
  request: number;
  op: string | null;
  kind: string;
  field: string | null;
  problem: string;
  hint: string | null;
  text: string;
}

export interface Device {
  id: number;
  address: string;
  platform: "android" | "ios";
  appid: string;
  push_token: string;
  voip: boolean;
  sandbox: boolean;
  responds: boolean;
  invalid: string | null;
}

export interface User {
  uid: number;
  address: string;
  name: string;
  appid: string | null;
  active: boolean;
  online: boolean;
  lastonline: string | null;
  flag: number;
  profile: Record<string, unknown> | null;
  tokens?: { appid: string; expires: string }[];
}

export interface Group {
  gid: number;
  name: string;
  flag: number;
  active: boolean;
  expiry: number | null;
  profile: Record<string, unknown> | null;
  members: { uid: number; address: string; cs: boolean; cr: boolean }[] | number;
  member_count: number;
}

export interface PushOptions {
  background: boolean;
  fallback: boolean;
  ratelimit: boolean;
  collapse: boolean;
  sound: boolean;
  forceprod: boolean;
  iosfcm: boolean;
}

/** An app as GET /_mock/apps/{token} shows it: never a key, only what identifies one. */
export interface AppView {
  name: string;
  token: string;
  push: PushOptions;
  credentials: {
    fcm: { project_id: string; client_email: string; source: "api" | "seed" } | null;
    apn: {
      bundle: string;
      sandbox: boolean;
      production: boolean;
      expiry: string;
      topics: string[];
      team_id: string | null;
      source: "api" | "seed";
    }[];
  };
  debug: { active: boolean; start: string; end: string; next_allowed: string | null } | null;
  webhook: { url: string; events: ("push" | "message" | "user")[]; note?: string } | null;
  [field: string]: unknown;
}

export interface Clock {
  now: string;
  epoch: number;
  frozen: boolean;
  offset: number;
}

export interface Health {
  status: "ok";
  mode: "cloud" | "onprem";
  version: string;
}

export interface Fault {
  id: number;
  token: string | null;
  address: string | null;
  push_token: string | null;
  error: string;
  service: "fcm" | "apn";
  count: number | null;
}

export interface BackendFault {
  id: number;
  op: string | null;
  token: string | null;
  error: string | null;
  http: 500 | 502 | 503 | 504 | null;
  delay: number | null;
  count: number | null;
  created: string;
}

export interface Sample {
  name: string;
  platform: "fcm" | "apn";
  media_type: string;
  description: string;
  url: string;
}

export type SampleCredentials = "sample" | { fcm?: string; apn?: string | string[] };

export interface PushFilters {
  address?: string;
  pushToken?: string;
  service?: "fcm" | "apn";
  status?: "sent" | "failed" | "throttled";
  kind?: "test" | "message" | "fallback";
  mid?: number;
  after?: number;
  limit?: number;
}

export interface MessageFilters {
  /** the sender's address (`from` in the query) */
  from?: string;
  to?: string;
  gid?: number;
  after?: number;
  limit?: number;
}

export interface EventFilters {
  type?: "user" | "message" | "push";
  delivery?: number;
  after?: number;
  limit?: number;
}

export interface RequestFilters {
  op?: string;
  result?: boolean;
  diagnosed?: boolean;
  after?: number;
  before?: number;
  limit?: number;
}

/** How long to wait and for how many: the server's long-poll answers once `count` records match. */
export interface Wait {
  count?: number;
  /** seconds (default 10) */
  timeout?: number;
}

export interface RegisterDeviceOptions {
  platform?: "android" | "ios";
  appid?: string;
  pushToken?: string;
  voip?: boolean;
  sandbox?: boolean;
  responds?: boolean;
}

export interface StartOptions {
  mode?: "cloud" | "onprem";
  seed?: string;
  /** any MESIBO_MOCK_* setting, with or without its prefix: {TESTPUSH_LIMIT: "100/60"} */
  env?: Record<string, string | number>;
  /** 0 (the default) picks a free port */
  port?: number;
  appToken?: string;
  logLevel?: "critical" | "error" | "warning" | "info" | "debug";
  /** seconds to wait for the server's ready line (default 20) */
  startupTimeout?: number;
}

export interface ConnectOptions {
  url?: string;
  adminToken?: string;
  appToken?: string;
}

export interface CreateAppOptions {
  name?: string;
  token?: string;
  /** "sample": the sample FCM and APN credentials; or sample names, {fcm, apn} */
  credentials?: SampleCredentials;
  /** close() throws for an op that does not exist or a field no op reads */
  strict?: boolean;
}

export declare class MesiboMockError extends Error {
  status?: number;
  body?: unknown;
}

/** A local HTTP receiver that answers MESIBO OK and records every POST. */
export declare class WebhookReceiver {
  readonly url: string;
  readonly posts: WebhookPost[];
  static start(): Promise<WebhookReceiver>;
  events(type?: "user" | "message" | "push"): WebhookEvent[];
  waitForEvents(options?: { count?: number; type?: "user" | "message" | "push"; timeout?: number }): Promise<WebhookEvent[]>;
  clear(): void;
  close(): Promise<void>;
}

/** The helpers, acting on one app: the server's default app (MesiboMock) or an app of a test's own. */
declare class Helpers {
  readonly url: string;
  readonly backendUrl: string;
  readonly token: string;
  readonly appToken: string;
  backend(op: string, fields?: Record<string, unknown>): Promise<Envelope>;
  uploadCredential(credential: string | Uint8Array, options?: { type?: "fcm" | "apn"; filename?: string }): Promise<Envelope>;
  pushdebug(duration?: number): Promise<Envelope>;
  sendMessage(
    from: string,
    to: string | null,
    message?: string,
    options?: { gid?: number; [field: string]: unknown },
  ): Promise<number>;
  registerDevice(address: string, options?: RegisterDeviceOptions): Promise<Device>;
  devices(address?: string): Promise<Device[]>;
  setOnline(address: string, online?: boolean): Promise<User>;
  users(): Promise<User[]>;
  groups(): Promise<Group[]>;
  app(): Promise<AppView>;
  pushes(filters?: PushFilters): Promise<PushRecord[]>;
  waitForPushes(options?: Wait & PushFilters): Promise<PushRecord[]>;
  push(id: number): Promise<PushRecord>;
  ack(id: number): Promise<PushRecord>;
  clearPushes(): Promise<{ deleted: number }>;
  messages(filters?: MessageFilters): Promise<MessageRecord[]>;
  waitForMessages(options?: Wait & MessageFilters): Promise<MessageRecord[]>;
  message(mid: number): Promise<MessageRecord>;
  events(filters?: EventFilters): Promise<WebhookEvent[]>;
  waitForEvents(options?: Wait & EventFilters): Promise<WebhookEvent[]>;
  requests(filters?: RequestFilters): Promise<JournalEntry[]>;
  waitForRequests(options?: Wait & RequestFilters): Promise<JournalEntry[]>;
  mistakes(options?: { after?: number }): Promise<Mistake[]>;
  mistakesReport(options?: { after?: number }): Promise<string | null>;
  injectFault(error: string, target?: { address?: string; pushToken?: string; count?: number | null }): Promise<Fault>;
  clearFaults(): Promise<{ deleted: number }>;
  backendFault(
    error?: string | null,
    options?: { op?: string; http?: 500 | 502 | 503 | 504; delay?: number; count?: number | null },
  ): Promise<BackendFault>;
  clearBackendFaults(): Promise<{ deleted: number }>;
  setWebhook(url: string, options?: { secret?: string; events?: ("push" | "message" | "user")[] }): Promise<{ webhook: AppView["webhook"] }>;
  webhookReceiver(options?: { events?: ("push" | "message" | "user")[] }): Promise<WebhookReceiver>;
  clock(): Promise<Clock>;
  advance(seconds: number): Promise<Clock>;
  setClock(iso: string): Promise<Clock>;
  freeze(frozen?: boolean): Promise<Clock>;
  realTime(): Promise<Clock>;
  health(): Promise<Health>;
  samples(): Promise<Sample[]>;
  sample(name: string): Promise<Buffer>;
}

/** An app of a test's own: its token, its backend URL, and every helper scoped to it. */
export declare class MesiboApp extends Helpers {
  readonly name: string;
  readonly view: AppView;
  strict: boolean;
  /** Checks strictness (throws with the pytest plugin's text, after deleting), then deletes the app. */
  close(): Promise<void>;
}

/** A running emulator, started by this process or connected to; its helpers act on the app `default`. */
export declare class MesiboMock extends Helpers {
  static start(options?: StartOptions): Promise<MesiboMock>;
  static connect(options?: ConnectOptions): Promise<MesiboMock>;
  createApp(options?: CreateAppOptions): Promise<MesiboApp>;
  listApps(): Promise<AppView[]>;
  /** Wipe the server: only for a server your tests own. */
  reset(): Promise<{ reset: true; app_token: string }>;
  stop(): Promise<void>;
}

export declare const DEFAULT_APP_TOKEN: string;
