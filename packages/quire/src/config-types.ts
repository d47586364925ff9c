/**
 * The comment service's settings. Every field has a default (DEFAULT_CONFIG); a JSON file, environment
 * variables and startServer's options override them in that order (docs/comment-service.md, "Configuration").
 */
export interface QuireConfig {
  /** Where threads, votes and the server secret live. Created on first start. */
  dataDir: string;
  host: string;
  port: number;
  /**
   * Origins of the sites that embed the comments, e.g. `https://blog.example.org`. Browsers get CORS headers for
   * these origins only, requests that carry another Origin may not change anything, and comments are accepted
   * only for pages on these origins. Empty: any http(s) page, and no CORS at all (same-origin use only).
   */
  origins: string[];
  /** The service's own public base URL, used for links in Atom feeds. Default: derived from the request. */
  publicUrl: string | null;
  /** Shown as the title of the site-wide feed. */
  siteName: string;
  /**
   * `scrypt$…` from hashPassword(); null (and no adminPasswordFile) disables the admin API. Never the password
   * itself. Contains `$`: quote it in a shell, or use adminPasswordFile.
   */
  adminPasswordHash: string | null;
  /**
   * A file holding the admin password's hash (or, with a warning, the password itself), readable by its owner
   * only; read once at start. For keeping the hash out of the config and the environment. Excludes
   * adminPasswordHash.
   */
  adminPasswordFile: string | null;
  /** `all`: every new comment waits for approval (202). `off`: comments appear at once (201). */
  moderation: 'off' | 'all';
  /** How long an author may edit or delete their own comment with its edit token. */
  editWindowSeconds: number;
  /** How long a deleted comment can be restored by a moderator (its erased fields are kept until then); 0: never. */
  restoreWindowDays: number;
  /** How long an admin session token from /api/admin/login lasts. */
  adminSessionSeconds: number;
  /** Fastify's trustProxy: false (default), true, or the proxy addresses/CIDRs (`"127.0.0.1,10.0.0.0/8"`). */
  trustProxy: boolean | string | string[];
  /** fsync every write (default true). false only for throwaway data: a power cut may lose recent comments. */
  durable: boolean;
  /** pino level: fatal, error, warn, info, debug, trace or silent. */
  logLevel: string;
  requireAuthor: boolean;
  requireEmail: boolean;
  uri: UriConfig;
  limits: LimitsConfig;
  spam: SpamConfig;
  rateLimits: RateLimitsConfig;
  // Issue 12, "Nothing is created by a refused or foreign request" and "Moderation cannot be walked around".
  /**
   * Before the first comment on a page makes its thread, fetch the page from its own site (GET, bounded: see
   * server/page-fetch.ts) and refuse the comment unless it answers 2xx; the thread's title is then the page's
   * `<title>`, never the client's. Off by default: it costs one outgoing request per new page.
   */
  verifyPages: boolean;
  /**
   * Let verifyPages fetch pages at loopback, private and link-local addresses (a site on the same host or LAN).
   * Off: such pages are refused, so a client cannot make the service probe the network behind it.
   */
  verifyPagesAllowPrivate: boolean;
  /**
   * Display names of the site's moderators: nobody may post or edit a comment under one of them, compared
   * by letters and digits of their NFKC case fold ("A.D.M.I.N", "ａｄｍｉｎ" and "Admin\u200b" read as "admin").
   */
  moderatorNames: string[];
  // Service limits (issue 12).
  markdown: MarkdownConfig;
  connections: ConnectionsConfig;
  // Issue 16 (scale): memory of the caches, docs/comment-service.md, "Memory".
  cache: CacheConfig;
  /** On SIGTERM/SIGINT: requests in flight get this long to finish, then the process exits anyway. */
  shutdownGraceSeconds: number;
  /** How long the site feed and counts are served from memory before they are read again, in seconds. */
  feedCacheSeconds: number;
  // Several instances on one data directory (issue 13): docs/comment-service.md, "Several instances".
  deadlines: DeadlinesConfig;
  freshness: FreshnessConfig;
  // Issue 15 (outbox): docs/notifications.md.
  /** The SMTP server mail is sent through; without `smtp.url` and `smtp.from`, no mail is queued. */
  smtp: SmtpConfig;
  /** Who is told what, and how deliveries are retried. */
  notify: NotifyConfig;
  // widget15 (issue 15): the widget's avatars.
  avatars: AvatarsConfig;
}

/**
 * How long the server waits on the data directory for one request. A network filesystem can stall for minutes
 * (a brick healing): past these, the request answers 503 with Retry-After instead of hanging, and a retry with
 * the same nonce is safe (it returns the comment if the first attempt published it after all).
 */
export interface DeadlinesConfig {
  /** Longest wait for one of a post's locks (held by a request with the same nonce or text), in ms. */
  lockWaitMs: number;
  /** Longest time the server works on one request before it answers 503, in ms; 0: no deadline. */
  requestMs: number;
  /** The Retry-After (s) of those 503 answers. */
  retryAfterSeconds: number;
}

/** How fresh what this instance serves is, against writes of other instances (other hosts). */
export interface FreshnessConfig {
  /**
   * A cached thread view checked longer ago than this (ms) is checked by listing the thread's directory, not by
   * stat alone: a network filesystem's attribute cache can hide a new comment from stat (GlusterFS defaults: up
   * to ~1.2 s), not from a listing. 0: list on every read.
   */
  viewListAfterMs: number;
}

/** The widget's avatars (server/avatars.ts, docs/widget.md "Avatars"). */
export interface AvatarsConfig {
  /**
   * Also send each comment's Gravatar key (SHA-256 of its author's e-mail) and let the widget load pictures from
   * gravatar.com. Off by default: the key is a plain hash anyone can match against a list of addresses, and
   * every reader's browser then asks gravatar.com for the pictures, telling it which page they read.
   */
  gravatar: boolean;
}

export interface UriConfig {
  /**
   * Query parameters that select content, the only ones kept in a page's thread key (exact names, compared
   * case-insensitively); every other parameter (`?lang=de`, `?x=<random>`) is dropped. Default: WordPress's
   * `p` and `page_id`. `["*"]`: keep every parameter but those of dropParams.
   */
  keepParams: string[];
  /**
   * Query parameters dropped from page URIs: exact names, or prefixes ending in `*` (`utm_*`). Compared
   * case-insensitively.
   */
  dropParams: string[];
  /** Drop the whole query string (for sites whose pages never depend on it). */
  dropQuery: boolean;
  /** `strip`: `/post/` and `/post` are one thread (the root `/` stays). `keep`: they are two. */
  trailingSlash: 'strip' | 'keep';
  /** Treat `/post/index.html` (also .htm, .php) as `/post/`. */
  stripIndex: boolean;
  /** Treat `http://` pages as their `https://` twins. */
  upgradeHttp: boolean;
  /** Host names that are the same site, e.g. `{ "www.example.org": "example.org" }`. */
  hostAliases: Record<string, string>;
}

export interface LimitsConfig {
  /** Largest request body in bytes; larger bodies get 413. */
  bodyBytes: number;
  textChars: number;
  authorChars: number;
  emailChars: number;
  websiteChars: number;
  titleChars: number;
  uriChars: number;
  /** Top-level comments per page of GET /api/comments unless `limit` asks for another number. */
  pageSize: number;
  maxPageSize: number;
  /** Replies nested deeper than this are listed under their ancestor at this depth (their `parent` stays). */
  maxDepth: number;
  /** Most `uri` parameters one GET /api/counts may ask for. */
  countsUris: number;
  feedEntries: number;
}

export interface SpamConfig {
  /** Name of the honeypot field: the embed hides it, so a person leaves it empty; any value is refused. */
  honeypotField: string;
  /** Require a form token (GET /api/form-token or `formToken` of the list response) on every new comment. */
  requireFormToken: boolean;
  /** A form token is accepted only this long after it was issued (0 for tests). */
  minComposeSeconds: number;
  /**
   * How long a form token is accepted. Tokens are bound to the page they were issued for and the client's
   * network (/24, /48), so a token collected once cannot feed a bot for days or from elsewhere.
   */
  formTokenMaxAgeSeconds: number;
  /** Most links (Markdown links, autolinks and bare http(s)/www. addresses) in one comment. */
  maxLinks: number;
  /** The same text (ignoring case and whitespace) twice in one thread within this many seconds is refused; 0: off. */
  duplicateWindowSeconds: number;
}

export interface RateLimit {
  /** Most requests per client address (IPv4 address or IPv6 /64) per window; 0 disables the limit. */
  max: number;
  windowSeconds: number;
}

export interface RateLimitsConfig {
  /** Every request to /api and the feeds. */
  requests: RateLimit;
  /** New comments. */
  posts: RateLimit;
  /** Edits and deletions by authors. */
  edits: RateLimit;
  likes: RateLimit;
  /** Admin login attempts. */
  login: RateLimit;
  /** New threads (first comments on a page) per client address. */
  threads: RateLimit;
  /** New threads from all clients together. */
  threadsTotal: RateLimit;
  // Service limits (issue 12, "No request can hold the service").
  /** POST /api/preview per client: each may cost a render on a worker of the Markdown pool. */
  previews: RateLimit;
  /**
   * Admin login attempts from all clients together (the client key is ignored): bounds the password checks a
   * flood from many addresses can queue, at the price of the owner waiting out the window during one.
   */
  loginsTotal: RateLimit;
}

// Service limits (issue 12, "No request can hold the service"): docs/comment-service.md, "Running it on the internet".

/** The Markdown rendering budget (server/markdown.ts). */
export interface MarkdownConfig {
  /** Longest time one text may take to render on a worker, in ms; a post past it is refused (422). */
  timeoutMs: number;
  /** Worker threads rendering at once. */
  workers: number;
  /** Texts waiting for a worker at most; more are refused with 503 markdown-busy. */
  maxQueue: number;
}

/** Connection limits and timeouts of the HTTP server (server/connections.ts). */
export interface ConnectionsConfig {
  /** Open connections per client address (IPv6: per /64); trusted proxies (trustProxy) are exempt. */
  perClient: number;
  /** Open connections in all; 0: derived from the open-file limit (raised at start where allowed). */
  total: number;
  /** Time a client has to send a request's headers, in seconds. */
  headersTimeoutSeconds: number;
  /** Time a client has to send a whole request (headers and body), in seconds. */
  requestTimeoutSeconds: number;
  /** How long an idle keep-alive connection is kept open, in seconds. */
  keepAliveTimeoutSeconds: number;
}

// Issue 15 (outbox): docs/notifications.md.

/** The SMTP server (`smtp.*`, QUIRE_SMTP_URL, QUIRE_SMTP_FROM). */
export interface SmtpConfig {
  /** `smtp://host:port` (STARTTLS when offered) or `smtps://host:port` (TLS), credentials optionally in it. */
  url: string | null;
  /** The sender, e.g. `Comments <comments@example.org>`. */
  from: string | null;
  /** User name, when not in the URL. */
  user: string | null;
  /** A file holding the password (owner-readable only), when not in the URL; read once at start. */
  passwordFile: string | null;
  /** Connection, greeting and socket timeout, in seconds. */
  timeoutSeconds: number;
}

/** One webhook: where, which events, and the secret its signature is made with. */
export interface WebhookConfig {
  url: string;
  /** Event types it gets (posted, pending, approved, reply, edited, deleted); empty: all. */
  events: string[];
  /** Key of the `Quire-Signature` HMAC-SHA256 header. */
  secret: string;
  /** Add the moderator fields (email, ip, ipHash) to the comment in the body. */
  moderatorFields: boolean;
}

export interface NotifyConfig {
  /** Addresses mailed about new comments (QUIRE_NOTIFY_MODERATORS, comma-separated). */
  moderators: string[];
  /** Which new comments moderators are mailed about: `posted` (approved at once) and/or `pending`. */
  moderatorEvents: string[];
  /** Mail authors who asked for it (`notify: true` with an e-mail) about approved replies to their comment. */
  replies: boolean;
  /** Language of the mail: `en` or `de`. */
  language: string;
  /** How long a one-click approve/delete/spam link in a moderator mail works, in hours. */
  linkHours: number;
  webhooks: WebhookConfig[];
  /** A webhook request's deadline, in seconds. */
  webhookTimeoutSeconds: number;
  /** Let webhooks reach loopback, private and link-local addresses. */
  webhooksAllowPrivate: boolean;
  /** Attempts per delivery before it is given up. */
  maxAttempts: number;
  /** Wait before the second attempt, in seconds; doubled after each failure (with jitter) up to retryMaxSeconds. */
  retrySeconds: number;
  retryMaxSeconds: number;
  /** Deliveries one process runs at once. */
  concurrency: number;
  /**
   * Run the delivery worker in this process (default). false: this process only appends to the outbox, and
   * another process on the same data directory delivers (say, one instance of several).
   */
  deliver: boolean;
}

// Issue 16 (scale).

/**
 * Bytes each cache of the service may hold, whatever the site's size (least recently used entries go first).
 * Their sum plus the process itself (about 80 MB idle: Node, its modules; run with the V8 flags of
 * deploy/quire.service) and what requests in flight hold is the service's memory (docs/comment-service.md).
 */
export interface CacheConfig {
  /**
   * Thread indexes with their page layouts and listed names (~90 bytes counted per comment of each thread kept
   * plus 4,500 a thread, as measured: a 50,000-comment thread takes 4.5 MB and is only kept with a budget that
   * big), and an eighth of it for the heads of threads whose index left (1,500 bytes each: what tells a kept
   * page is current). 1 MiB by default: the site bench's mixed load ran as fast with 1 MiB as with 4 (157 and
   * 161 requests/s; a load is cheap: the snapshot is read straight into typed arrays), for 8 MB less RSS.
   */
  indexBytes: number;
  /** Parsed comment records (the comments of recently shown pages). */
  recordBytes: number;
  /** Serialised answers of GET /api/comments (server/pagecache.ts). */
  pageBytes: number;
  /** Rendered Markdown by source text (server/markdown.ts): should hold one page's texts and their HTML. */
  markdownBytes: number;
  /** The duplicate and nonce checks' summaries of the threads posted to (about 200 bytes per comment). */
  summaryBytes: number;
}
