// The page's shared state while it runs: one store that features and codecs read, change and subscribe to, and a
// tiny event bus for intents (open a member's card, a channel was selected). Features never call each other's
// renderers: a change to the store re-renders whatever subscribed to the changed keys.
//
// Values are replaced, not mutated, where others depend on them (set a new Map). When a module did change a value
// in place (a voice channel's occupants inside a tree node), touch(key) tells the subscribers.

/** A store over the initial state's keys. */
export function createStore(initial) {
  let state = { ...initial };
  let subscribers = [];

  const notify = (keys) => {
    const changed = new Set(keys);
    for (const s of subscribers) if (s.keys.some((k) => changed.has(k))) s.fn(changed, state);
  };

  return {
    /** The whole state (a snapshot object), or one key's value. */
    get(key) {
      return key === undefined ? state : state[key];
    },
    /** Replaces keys and notifies their subscribers (each once, in subscription order). */
    set(patch) {
      state = { ...state, ...patch };
      notify(Object.keys(patch));
    },
    /** Replaces one key with fn(its value). */
    update(key, fn) {
      this.set({ [key]: fn(state[key]) });
    },
    /** Notifies the subscribers of keys whose values changed in place. */
    touch(...keys) {
      notify(keys);
    },
    /** Calls fn(changedKeys, state) after every change to one of keys; returns the unsubscribe function. */
    subscribe(keys, fn) {
      const entry = { keys, fn };
      subscribers = [...subscribers, entry];
      return () => {
        subscribers = subscribers.filter((s) => s !== entry);
      };
    },
  };
}

/** Named events with one or more listeners: emit(name, detail) calls each listener(detail) in order. */
export function createBus() {
  const listeners = new Map();
  return {
    on(name, fn) {
      listeners.set(name, [...(listeners.get(name) || []), fn]);
    },
    emit(name, detail) {
      for (const fn of listeners.get(name) || []) fn(detail);
    },
  };
}
