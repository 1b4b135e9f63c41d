/**
 * Forwarding to the owner: GatewayInternal/OwnerSnapshots on the peer's internal endpoint, spoken as plain gRPC
 * over node:http2. Each peer gets one HTTP/2 session and on it one long-lived stream that carries every question
 * to that peer, matched to its answer by id: opening an HTTP/2 stream per question (headers, trailers, stream
 * state on both workers) cost about ten times the CPU of a message on an open stream, on the forwarded hop of
 * every second call. Concurrent forwards of one commodity to one owner share a question (single-flight.ts).
 * Failures come back as a cause and a reason, never thrown: the router answers degraded.
 *
 * A peer that leaves a question unanswered within its budget (unless a tight one) is suspect until it answers an
 * HTTP/2 PING, and questions to a suspect peer fail at once: a stopped or wedged process (SIGSTOP, a blocked event
 * loop, a host that drops packets) would otherwise cost every forwarded call the whole owner budget until the
 * group rebalances, seconds later. A live peer answers the PING within a round trip, so one slow answer costs
 * little; one that does not answer within PING_TIMEOUT_MS has its session destroyed and the next question opens
 * another.
 */
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { OwnerSnapshotOutcome, OwnerSnapshotRequest, OwnerSnapshotResponse } from '../proto/gen/carbon/v1/internal.ts';
import { grpcFrame, GrpcMessageReader, grpcStatusOf, OWNER_SNAPSHOTS_PATH } from './grpc-wire.ts';
import { TIGHT_BUDGET_MS } from './owner-answer.ts';
import { SingleFlight } from './single-flight.ts';
import type { PeerTransport } from './transport-credentials.ts';

/**
 * Why a forward failed: `silent`, no answer within the budget; `unresponsive`, not asked (the peer has not answered
 * a PING since it last left a question unanswered); `declined`, the peer does not own the commodity or is
 * draining; `failed`, the owner could not answer, or the connection or stream broke.
 */
export type ForwardFailure = 'silent' | 'unresponsive' | 'declined' | 'failed';

export type ForwardResult =
  | { readonly ok: true; readonly response: OwnerSnapshotResponse }
  | { readonly ok: false; readonly cause: ForwardFailure; readonly reason: string };

/** How long a suspect peer has to answer a PING before its session is given up. */
const PING_TIMEOUT_MS = 2_000;

/** Largest answer accepted from a peer (an answer is a few hundred bytes). */
const MAX_RESPONSE_BYTES = 64 * 1024;

function resultOf(response: OwnerSnapshotResponse): ForwardResult {
  switch (response.outcome) {
    case OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_OWNED:
      return { ok: true, response };
    case OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_DRAINING:
      return { ok: false, cause: 'declined', reason: 'draining' };
    case OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_NOT_OWNER:
      return { ok: false, cause: 'declined', reason: 'not the owner' };
    case OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_FAILED:
      return { ok: false, cause: 'failed', reason: response.failure };
    default:
      return { ok: false, cause: 'failed', reason: `unknown outcome ${response.outcome}` };
  }
}

/** One OwnerSnapshots stream and the questions waiting for an answer on it. */
class QuestionStream {
  private nextId = 1;
  private readonly waiting = new Map<number, { readonly resolve: (r: ForwardResult) => void; readonly timer: NodeJS.Timeout }>();
  private readonly reader = new GrpcMessageReader(MAX_RESPONSE_BYTES);
  /** Why the stream ended, for the questions it leaves unanswered. */
  private endReason: string | undefined;

  /** `onSilent` is told the budget of each question left unanswered. */
  constructor(private readonly stream: ClientHttp2Stream, onClose: () => void, private readonly onSilent: (budgetMs: number) => void) {
    stream.on('response', (headers) => this.noteStatus(headers));
    stream.on('trailers', (trailers) => this.noteStatus(trailers));
    stream.on('data', (chunk: Buffer) => this.read(chunk));
    stream.on('error', (err: Error) => {
      this.endReason ??= err.message;
    });
    stream.on('close', () => {
      onClose();
      this.failAll(this.endReason ?? 'the stream ended before answering');
    });
  }

  get usable(): boolean {
    return !this.stream.destroyed && !this.stream.writableEnded && this.endReason === undefined;
  }

  ask(commodity: string, partition: number, timeoutMs: number): Promise<ForwardResult> {
    const id = this.nextId++;
    const budgetMs = Math.max(1, Math.floor(timeoutMs));
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        // The late answer, if any, finds no one waiting and is dropped.
        this.waiting.delete(id);
        resolve({ ok: false, cause: 'silent', reason: `no answer within ${budgetMs} ms` });
        this.onSilent(budgetMs);
      }, budgetMs);
      this.waiting.set(id, { resolve, timer });
      this.stream.write(grpcFrame(OwnerSnapshotRequest.encode({ commodity, partition, id, budgetMs }).finish()));
    });
  }

  /** No more questions on this stream: the owner answers those in flight, then ends it. */
  finish(): void {
    if (!this.stream.writableEnded && !this.stream.destroyed) this.stream.end();
  }

  /** A status other than OK ends the stream: it is why the questions left fail. */
  private noteStatus(headers: IncomingHttpHeaders): void {
    const s = grpcStatusOf(headers);
    if (s !== undefined && s.code !== 0) this.endReason ??= s.message || `gRPC status ${s.code}`;
  }

  private read(chunk: Buffer): void {
    const messages = this.reader.push(chunk);
    if (!Array.isArray(messages)) return this.abandon(messages.reason);
    for (const message of messages) {
      let response: OwnerSnapshotResponse;
      try {
        response = OwnerSnapshotResponse.decode(message);
      } catch (err) {
        return this.abandon(`undecodable answer: ${(err as Error).message}`);
      }
      const waiter = this.waiting.get(response.id);
      if (waiter === undefined) continue;
      this.waiting.delete(response.id);
      clearTimeout(waiter.timer);
      waiter.resolve(resultOf(response));
    }
  }

  /** The answers cannot be read on: the stream is cancelled and its questions fail with `reason`. */
  private abandon(reason: string): void {
    this.endReason ??= reason;
    this.stream.close(constants.NGHTTP2_CANCEL);
  }

  private failAll(reason: string): void {
    for (const { resolve, timer } of this.waiting.values()) {
      clearTimeout(timer);
      resolve({ ok: false, cause: 'failed', reason });
    }
    this.waiting.clear();
  }
}

/** One peer: an HTTP/2 session and its current question stream, each replaced when it breaks or the peer says goodbye. */
class Peer {
  private session: ClientHttp2Session | undefined;
  private questions: QuestionStream | undefined;
  /** When the PING outstanding to this suspect peer was sent; undefined while the peer is trusted. */
  private suspectSinceMs: number | undefined;

  constructor(private readonly endpoint: string, private readonly transport: PeerTransport) {}

  ask(commodity: string, partition: number, timeoutMs: number): Promise<ForwardResult> {
    if (this.suspectSinceMs !== undefined) {
      const ms = Date.now() - this.suspectSinceMs;
      return Promise.resolve({ ok: false, cause: 'unresponsive', reason: `unresponsive: it left a question unanswered and has not answered a ping for ${ms} ms` });
    }
    let questions: QuestionStream;
    try {
      questions = this.openQuestions();
    } catch (err) {
      return Promise.resolve({ ok: false, cause: 'failed', reason: `cannot open a stream: ${(err as Error).message}` });
    }
    return questions.ask(commodity, partition, timeoutMs);
  }

  close(): void {
    this.questions?.finish();
    this.session?.close();
  }

  /** Sends a PING unless one is outstanding; the peer is trusted again when it answers. */
  private suspect(): void {
    const session = this.session;
    if (this.suspectSinceMs !== undefined || session === undefined || session.destroyed) return;
    // Destroying the session fails its questions and cancels the PING, whose callback then ends the suspicion.
    const giveUp = setTimeout(() => session.destroy(new Error(`no answer to a ping within ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS);
    giveUp.unref();
    const trust = () => {
      clearTimeout(giveUp);
      this.suspectSinceMs = undefined;
    };
    this.suspectSinceMs = Date.now();
    // False when too many PINGs are unanswered already (maxOutstandingPings): the session is past saving.
    if (!session.ping(trust)) {
      trust();
      session.destroy(new Error('too many pings unanswered'));
    }
  }

  private openQuestions(): QuestionStream {
    if (this.questions?.usable) return this.questions;
    const session = this.openSession();
    const stream = session.request({ ':method': 'POST', ':path': OWNER_SNAPSHOTS_PATH, 'content-type': 'application/grpc', te: 'trailers' });
    const questions = new QuestionStream(
      stream,
      () => {
        if (this.questions === questions) this.questions = undefined;
      },
      (budgetMs) => {
        // A question with a tight budget left unanswered says nothing of the peer: one tenant's short deadlines must
        // not send everyone's calls to it down the degraded path.
        if (budgetMs >= TIGHT_BUDGET_MS) this.suspect();
      },
    );
    this.questions = questions;
    return questions;
  }

  private openSession(): ClientHttp2Session {
    if (this.session !== undefined && !this.session.closed && !this.session.destroyed) return this.session;
    const session = connect(`${this.transport.scheme}://${this.endpoint}`, this.transport.options);
    const forget = () => {
      if (this.session !== session) return;
      this.session = undefined;
      // Questions in flight are still answered; new ones go to a new session.
      this.questions?.finish();
      this.questions = undefined;
    };
    // A broken session fails its stream's questions (the stream reports it); the next question opens another.
    session.on('error', forget);
    session.on('goaway', forget);
    session.on('close', forget);
    session.unref();
    this.session = session;
    return session;
  }
}

export class OwnerClients {
  private readonly peers = new Map<string, Peer>();
  private readonly inFlight = new SingleFlight<ForwardResult>();

  constructor(private readonly transport: PeerTransport) {}

  forward(endpoint: string, commodity: string, partition: number, timeoutMs: number): Promise<ForwardResult> {
    return this.inFlight.run(`${endpoint}|${partition}|${commodity}`, Date.now() + timeoutMs, async () => {
      let peer = this.peers.get(endpoint);
      if (peer === undefined) this.peers.set(endpoint, (peer = new Peer(endpoint, this.transport)));
      const r = await peer.ask(commodity, partition, timeoutMs);
      return r.ok ? r : { ...r, reason: `${endpoint}: ${r.reason}` };
    });
  }

  /** Drops the connection of a peer that went away (its endpoint is not in the ownership table any more). */
  retainOnly(endpoints: ReadonlySet<string>): void {
    for (const [endpoint, peer] of this.peers) {
      if (endpoints.has(endpoint)) continue;
      peer.close();
      this.peers.delete(endpoint);
    }
  }

  close(): void {
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
  }
}
