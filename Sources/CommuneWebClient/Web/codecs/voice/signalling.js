// The call socket (/ws/calls/, docs/PROTOCOL.md "Calls"): opened after join_call with `hello {path, name, secret}`,
// answered by `ready {mode, user_id, peers}`; then JSON frames {type, data} both ways. Not the main socket's envelope.
//
// Events (event.detail): frame {type, data} for every frame after ready; closed {code, reason, ended} when the socket
// closes (ended: the reason of the server's `ended` frame, or null when it just dropped).

const OPEN_TIMEOUT_MS = 10000;

export class CallSocket extends EventTarget {
  /** url: ws(s)://host/ws/calls/; hello: {path, name, secret}. */
  constructor(url, hello) {
    super();
    this.url = url;
    this.hello = hello;
    this.socket = null;
    this.ended = null;
    this.closedByMe = false;
  }

  /** Connects and says hello; resolves with ready's data, rejects with an Error (code set from an `error` frame). */
  open() {
    return new Promise((resolve, reject) => {
      let ready = false;
      let socket;
      try {
        socket = new WebSocket(this.url);
      } catch (e) {
        reject(e);
        return;
      }
      this.socket = socket;
      const timer = setTimeout(() => {
        if (!ready) {
          reject(Object.assign(new Error("The call server did not answer in time."), { code: "connection_lost" }));
          socket.close();
        }
      }, OPEN_TIMEOUT_MS);
      socket.addEventListener("open", () => socket.send(JSON.stringify({ type: "hello", data: this.hello })));
      socket.addEventListener("message", (event) => {
        let frame;
        try {
          frame = JSON.parse(event.data);
        } catch {
          return;
        }
        if (!frame || typeof frame.type !== "string") return;
        const data = frame.data && typeof frame.data === "object" ? frame.data : {};
        if (!ready) {
          clearTimeout(timer);
          if (frame.type === "ready") {
            ready = true;
            resolve(data);
          } else {
            const error = new Error(typeof data.message === "string" && data.message ? data.message : "The call refused this connection.");
            error.code = typeof data.code === "string" ? data.code : "forbidden";
            reject(error);
          }
          return;
        }
        if (frame.type === "ended") this.ended = typeof data.reason === "string" ? data.reason : "left";
        this.dispatchEvent(new CustomEvent("frame", { detail: { type: frame.type, data } }));
      });
      socket.addEventListener("close", (event) => {
        clearTimeout(timer);
        if (!ready) {
          reject(Object.assign(new Error(`The call connection closed (${event.code}).`), { code: "connection_lost" }));
          return;
        }
        this.dispatchEvent(new CustomEvent("closed", { detail: { code: event.code, reason: event.reason, ended: this.ended, byMe: this.closedByMe } }));
      });
    });
  }

  get isOpen() {
    return Boolean(this.socket && this.socket.readyState === WebSocket.OPEN);
  }

  /** Sends a frame; false when the socket is not open. */
  send(type, data = {}) {
    if (!this.isOpen) return false;
    this.socket.send(JSON.stringify({ type, data }));
    return true;
  }

  close() {
    this.closedByMe = true;
    if (this.socket) {
      try {
        this.socket.close(1000);
      } catch {
        /* already closed */
      }
    }
  }
}
