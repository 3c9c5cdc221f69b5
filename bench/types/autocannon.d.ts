// The part of autocannon 8's programmatic API the driver uses (the package ships no types).
declare module 'autocannon' {
  namespace autocannon {
    interface Options {
      /** Several URLs: the connections are spread over them in turn. */
      url: string | string[];
      method?: 'GET' | 'POST';
      headers?: Record<string, string>;
      body?: string;
      connections?: number;
      /** Seconds to run; ignored when `amount` is set. */
      duration?: number;
      /** Number of requests to send in total. */
      amount?: number;
      /** Seconds before a request counts as timed out. */
      timeout?: number;
      /** Called once per connection, before its first request. */
      setupClient?: (client: Client) => void;
    }

    interface Client {
      setHeadersAndBody(headers: Record<string, string>, body?: string): void;
    }

    interface Result {
      /** Seconds the run took. */
      duration: number;
      errors: number;
      timeouts: number;
      non2xx: number;
      '2xx': number;
      statusCodeStats: Record<string, { count: number }>;
    }

    interface Instance extends PromiseLike<Result> {
      /** Emitted for every response; `responseTime` is in milliseconds, not rounded. */
      on(event: 'response', listener: (client: unknown, statusCode: number, bytes: number, responseTime: number) => void): this;
    }
  }

  function autocannon(options: autocannon.Options): autocannon.Instance;
  export = autocannon;
}
