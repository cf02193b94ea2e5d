// The channel codecs this client knows, in the order the create dialog offers them. Adding a codec is one new module
// and its line here (an import and an entry in CODECS); nothing else in the client names a codec.
//
// A codec module's default export is an object; everything but `name` is optional:
//   name          the protocol's codec name
//   label         its choice in the create dialog (none: it cannot be created here)
//   noun          what the channel's dialog calls it ("voice channel")
//   icon          its icon in the sidebar, the channel header and the channel's dialog
//   landing       members land in the first channel of this codec, and one they create is opened
//   container     it holds other nodes (categories): a parent in the create and move dialogs
//   topic         it has a topic (set_topic, topic_changed)
//   attachments   its view takes dropped images for the next message
//   createFields  extra create-dialog fields, shown while it is chosen; createPayload(values) → extra payload
//   readData(node, data, children)  reads its part of the tree's `data` into a node (children(inner) for nested)
//   treeItem(node, tree)  the whole sidebar item (containers); tree = {manageButton, children, createIn}, where
//                         manageButton(node, label) is null and createIn is null when I may not use them
//   treeTitle(node)       the sidebar button's title (default: the key)
//   treeExtras(node)      something under its sidebar row (a voice channel's occupants)
//   open(node)            what a click in the sidebar does (default: show the channel)
//   describe(node)        a sentence after the channel dialog's lead (text, or a list of texts and nodes)
//   panes()               the elements of its view, shown while one of its channels is selected
//   renderView(node)      fills its view for the selected channel
//   updates               {result: handler({key, node, payload, result})}: the channel updates it handles
//   commands              functions for window.commune (tests and power users)
//   install(ctx)          called once at start with the shared context (lib/context.js)

import category from "./category.js";
import link from "./link.js";
import text from "./text.js";
import voice from "./voice.js";

export const CODECS = [text, voice, category, link];
