import type { IPubSubAdapter, PubSubCallback } from '@nocobase/server';
import { createClient } from 'redis';

type RedisClient = ReturnType<typeof createClient>;

export interface RedisPubSubAdapterOptions {
  /** A Redis URL, e.g. `redis://127.0.0.1:6379/1`. */
  url: string;
  /** Put before every channel name, so that several installations can share one Redis. */
  channelPrefix?: string;
  /** Where connection problems are reported (Redis reconnects by itself). */
  onError?: (error: Error) => void;
}

/**
 * NocoBase's pub/sub adapter interface (`app.pubSubManager.setAdapter`, the interface of
 * @nocobase/test's memory adapter) on Redis PUBLISH / SUBSCRIBE. It carries NocoBase's sync
 * messages between the application processes of a cluster, e.g. the workflow plugin's
 * `statusChange` when a workflow is enabled or disabled through one of them.
 *
 * One connection publishes, a second one (in subscriber mode) listens. Like the memory adapter,
 * a process also receives what it published itself; NocoBase's PubSubManager drops those
 * messages when they were sent with `skipSelf`. Redis pub/sub is fire-and-forget: a message
 * published while a process is disconnected from Redis does not reach it later.
 */
export class RedisPubSubAdapter implements IPubSubAdapter {
  private publisher: RedisClient | null = null;
  private subscriber: RedisClient | null = null;
  private connecting: Promise<void> | null = null;
  private connected = false;
  /** Channel (as NocoBase names it) to its callbacks. */
  private readonly callbacks = new Map<string, Set<PubSubCallback>>();
  /** Channels the subscriber connection listens to. */
  private readonly listening = new Set<string>();

  constructor(private readonly options: RedisPubSubAdapterOptions) {}

  /** Synchronous on purpose: PubSubManager.publish() calls it without awaiting. */
  isConnected(): boolean {
    return this.connected;
  }

  connect(): Promise<void> {
    if (this.connected) return Promise.resolve();
    this.connecting ??= this.open().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  async close(): Promise<void> {
    if (this.connecting) await this.connecting.catch(() => undefined);
    this.connected = false;
    this.listening.clear();
    const clients = [this.subscriber, this.publisher];
    this.subscriber = null;
    this.publisher = null;
    await Promise.all(
      clients.map(async (client) => {
        if (!client?.isOpen) return;
        try {
          await client.close();
        } catch {
          client.destroy();
        }
      }),
    );
  }

  async subscribe(channel: string, callback: PubSubCallback): Promise<void> {
    let set = this.callbacks.get(channel);
    if (!set) {
      set = new Set();
      this.callbacks.set(channel, set);
    }
    set.add(callback);
    if (this.connected && this.subscriber) await this.listen(this.subscriber, channel);
  }

  async unsubscribe(channel: string, callback: PubSubCallback): Promise<void> {
    const set = this.callbacks.get(channel);
    if (!set) return;
    set.delete(callback);
    if (set.size) return;
    this.callbacks.delete(channel);
    if (this.listening.delete(channel) && this.subscriber?.isOpen) {
      await this.subscriber.unsubscribe(this.redisChannel(channel));
    }
  }

  async publish(channel: string, message: string): Promise<void> {
    // Not queued while Redis is away: a stale status change delivered minutes later would do
    // more harm than a lost one (every process reads the workflows table again when it starts).
    if (!this.connected || !this.publisher?.isReady) return;
    await this.publisher.publish(this.redisChannel(channel), message);
  }

  private redisChannel(channel: string): string {
    return this.options.channelPrefix ? `${this.options.channelPrefix}:${channel}` : channel;
  }

  private async open(): Promise<void> {
    const onError = (error: Error) => this.options.onError?.(error);
    const publisher = createClient({ url: this.options.url });
    publisher.on('error', onError);
    const subscriber = publisher.duplicate();
    subscriber.on('error', onError);
    try {
      await Promise.all([publisher.connect(), subscriber.connect()]);
      this.publisher = publisher;
      this.subscriber = subscriber;
      this.connected = true;
      // Channels subscribed before, or while, connecting.
      for (const channel of [...this.callbacks.keys()]) await this.listen(subscriber, channel);
    } catch (error) {
      this.connected = false;
      this.listening.clear();
      this.publisher = null;
      this.subscriber = null;
      publisher.destroy();
      subscriber.destroy();
      throw error;
    }
  }

  /** Subscribes the connection to a channel once; messages go to the channel's current callbacks. */
  private async listen(subscriber: RedisClient, channel: string): Promise<void> {
    if (this.listening.has(channel)) return;
    this.listening.add(channel);
    await subscriber.subscribe(this.redisChannel(channel), (message) => {
      for (const callback of this.callbacks.get(channel) ?? []) {
        // One failing handler must neither stop the others nor the subscriber connection.
        Promise.resolve()
          .then(() => callback(message))
          .catch((error) => this.options.onError?.(error as Error));
      }
    });
  }
}
