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

/** The `data` of an FCM v1 message: strings only, as FCM wants. A data-only (background) push carries
 * the text for the app to show; an alert carries it in `notification`. */
export interface FcmData {
  source: "mesibo";
  kind: "test" | "message" | "fallback";
  message_id: string;
  mid?: string;
  title?: string;
  body?: string;
  [key: string]: string | undefined;
}

/** The APNs payload (`aps` and Mesibo's own `mesibo` block). */
export interface ApnsPayload {
  aps: {
    "content-available"?: 1;
    alert?: { title?: string; body?: string };
    sound?: string;
    [key: string]: unknown;
  };
  mesibo?: { kind: "test" | "message" | "fallback"; title?: string; body?: string; mid?: number };
}

export interface ApnsHeaders {
  "apns-topic": string;
  "apns-push-type": "background" | "alert" | "voip";
  "apns-priority": "5" | "10";
  "apns-collapse-id"?: string;
  [header: string]: string | undefined;
}

/** An FCM HTTP v1 message, as `POST .../messages:send` would carry it. */
export interface FcmMessage {
  token: string;
  data: FcmData;
  notification?: { title: string; body: string };
  android: { priority: "high" | "normal"; collapse_key?: string };
  /** an iOS device reached through FCM (`iosfcm`) */
  apns?: { headers: ApnsHeaders; payload: ApnsPayload };
}

/** The request FCM would have got (the bearer token shown redacted). */
export interface FcmRequest {
  method: "POST";
  url: string;
  headers: Record<string, string>;
  body: { message: FcmMessage };
}

/** The request APNs would have got. */
export interface ApnsRequest {
  method: "POST";
  url: string;
  headers: ApnsHeaders;
  body: ApnsPayload;
}

export interface FcmResponse {
  status: number;
  headers: Record<string, string>;
  body: { name: string } | { error: { code: number; message: string; status: string; details?: unknown[] } };
}

export interface ApnsResponse {
  status: number;
  headers: Record<string, string>;
  /** empty on success, else APNs' reason */
  body: "" | { reason: string; timestamp?: number };
}

/** What every push record has, whichever service it went to. */
interface PushBase {
  id: number;
  ts: string;
  app: string;
  app_name: string;
  address: string;
  device: number;
  push_token: string;
  platform: "android" | "ios";
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
}

/** A push to Google: `request` is what FCM would have got (also for a push no credential could send,
 * or a throttled one); `response` is FCM's answer, null where no request was made. */
export interface FcmPush extends PushBase {
  service: "fcm";
  request: FcmRequest;
  response: FcmResponse | null;
}

/** A push to Apple, likewise. */
export interface ApnsPush extends PushBase {
  service: "apn";
  request: ApnsRequest;
  response: ApnsResponse | null;
}

/** What would have been sent to Google (FCM) or Apple (APNs), and their answer: check `service`, then
 * read the request as that service's, e.g. `push.request.body.message.data.body` for FCM. */
export type PushRecord = FcmPush | ApnsPush;

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

/** What strict mode fails a test for, with the line of text it fails with: a backend call's mistake
 * (`request` is its journal id), or a webhook delivery the handler did not answer with MESIBO OK (kind
 * "webhook", with its `delivery` and `attempt`). */
export interface Mistake {
  request: number | null;
  op: string | null;
  kind: "unknown op" | "unknown field" | "webhook" | (string & {});
  field: string | null;
  problem: string;
  hint: string | null;
  text: string;
  delivery?: number;
  attempt?: number;
}

/** One POST to a webhook (a request's or a timer round's events), with its state and attempts. */
export interface Delivery {
  id: number;
  app: string;
  url: string;
  state: "pending" | "delivered" | "failed" | "cancelled";
  attempts: number;
  event_count: number;
  kinds: ("user" | "message" | "push")[];
  [field: string]: unknown;
}

/** One attempt to POST a delivery, with what went wrong. */
export interface WebhookAttempt {
  id: number;
  attempt: number;
  url: string;
  ok: boolean;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  webhook_id: number;
  event_count: number;
  note: string | null;
  [field: string]: unknown;
}

/** A one-time code the `otp` op made (where a real app would send an SMS). */
export interface Otp {
  app: string;
  address: string;
  otp: string;
  tries: number;
  expires: string;
  created: string;
}

/** A message's life on the emulator clock, as the dashboard draws it. */
export interface Timeline {
  mid: number;
  detailed: boolean;
  items: { kind: string; at: number; [field: string]: unknown }[];
  [field: string]: unknown;
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

/** Lists and clearings act on their own app; {allApps: true} reads (or clears) every app's. */
export interface Scope {
  allApps?: boolean;
}

export interface PushFilters extends Scope {
  address?: string;
  pushToken?: string;
  service?: "fcm" | "apn";
  status?: "sent" | "failed" | "throttled";
  kind?: "test" | "message" | "fallback";
  mid?: number;
  after?: number;
  limit?: number;
}

export interface MessageFilters extends Scope {
  /** the sender's address (`from` in the query) */
  from?: string;
  to?: string;
  gid?: number;
  after?: number;
  limit?: number;
}

export interface EventFilters extends Scope {
  type?: "user" | "message" | "push";
  delivery?: number;
  after?: number;
  limit?: number;
}

export interface DeliveryFilters extends Scope {
  state?: "pending" | "delivered" | "failed" | "cancelled";
  after?: number;
  limit?: number;
}

export interface AttemptFilters extends Scope {
  delivery?: number;
  pushId?: number;
  limit?: number;
}

export interface RequestFilters extends Scope {
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
  app(): Promise<AppView>;
  setDisabled(disabled?: boolean): Promise<AppView>;
  resetApp(): Promise<{ cleared: number; app: AppView }>;
  registerDevice(address: string, options?: RegisterDeviceOptions): Promise<Device>;
  devices(address?: string): Promise<Device[]>;
  removeDevice(id: number): Promise<void>;
  setOnline(address: string, online?: boolean): Promise<User>;
  users(): Promise<User[]>;
  groups(): Promise<Group[]>;
  otps(address?: string): Promise<Otp[]>;
  uac(id: number): Promise<Record<string, unknown> & { id: number; name: string }>;
  pushes(filters?: PushFilters): Promise<PushRecord[]>;
  waitForPushes(options?: Wait & PushFilters): Promise<PushRecord[]>;
  push(id: number): Promise<PushRecord>;
  ack(id: number): Promise<PushRecord>;
  clearPushes(options?: Scope): Promise<{ deleted: number }>;
  messages(filters?: MessageFilters): Promise<MessageRecord[]>;
  waitForMessages(options?: Wait & MessageFilters): Promise<MessageRecord[]>;
  message(mid: number): Promise<MessageRecord>;
  timeline(mid: number): Promise<Timeline>;
  events(filters?: EventFilters): Promise<WebhookEvent[]>;
  waitForEvents(options?: Wait & EventFilters): Promise<WebhookEvent[]>;
  deliveries(filters?: DeliveryFilters): Promise<Delivery[]>;
  waitForDeliveries(options?: Wait & DeliveryFilters): Promise<Delivery[]>;
  webhookAttempts(filters?: AttemptFilters): Promise<WebhookAttempt[]>;
  waitForWebhookAttempts(options?: Wait & AttemptFilters): Promise<WebhookAttempt[]>;
  requests(filters?: RequestFilters): Promise<JournalEntry[]>;
  waitForRequests(options?: Wait & RequestFilters): Promise<JournalEntry[]>;
  request(id: number): Promise<JournalEntry>;
  clearRequests(options?: Scope): Promise<{ deleted: number }>;
  lastRequestId(options?: Scope): Promise<number>;
  /** Strict mode's findings; what a test reads here is expected, and close() fails only for later ones. */
  mistakes(options?: { after?: number } & Scope): Promise<Mistake[]>;
  mistakesReport(options?: { after?: number } & Scope): Promise<string | null>;
  unexpectedMistakes(options?: { after?: number } & Scope): Promise<string | null>;
  /** The failure report: each backend call with its answer and diagnosis, then strict mode's findings. */
  report(options?: { after?: number; limit?: number } & Scope): Promise<string>;
  injectFault(error: string, target?: { address?: string; pushToken?: string; count?: number | null } & Scope): Promise<Fault>;
  faults(options?: Scope): Promise<Fault[]>;
  removeFault(id: number): Promise<void>;
  clearFaults(options?: Scope): Promise<{ deleted: number }>;
  backendFault(
    error?: string | null,
    options?: { op?: string; http?: 500 | 502 | 503 | 504; delay?: number; count?: number | null } & Scope,
  ): Promise<BackendFault>;
  backendFaults(options?: Scope): Promise<BackendFault[]>;
  removeBackendFault(id: number): Promise<void>;
  clearBackendFaults(options?: Scope): Promise<{ deleted: number }>;
  setWebhook(url: string, options?: { secret?: string; events?: ("push" | "message" | "user")[] }): Promise<{ webhook: AppView["webhook"] }>;
  removeWebhook(): Promise<void>;
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
  /** Deletes the app; with strict mode, then throws naming each mistake the test did not read. */
  close(): Promise<void>;
}

/** A running emulator, started by this process or connected to; its helpers act on the app `default`. */
export declare class MesiboMock extends Helpers {
  static start(options?: StartOptions): Promise<MesiboMock>;
  static connect(options?: ConnectOptions): Promise<MesiboMock>;
  createApp(options?: CreateAppOptions): Promise<MesiboApp>;
  apps(options?: { name?: string }): Promise<AppView[]>;
  deleteApp(token: string): Promise<void>;
  /** What the server this process started has logged (the last 64 KiB). */
  logs(): string;
  /** Wipe the server: only for a server your tests own. */
  reset(): Promise<{ reset: true; app_token: string }>;
  stop(): Promise<void>;
}

export declare const DEFAULT_APP_TOKEN: string;
