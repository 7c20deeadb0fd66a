// How the engine lays out the JSON it writes.
#ifndef SKILLSTORE_COMMON_JSON_LAYOUT_H_
#define SKILLSTORE_COMMON_JSON_LAYOUT_H_

namespace skillstore {

enum class JsonLayout {
  // Two-space indentation and a newline at the end (nlohmann's dump(2)):
  // for people (`skillctl parse`, exported files).
  kIndented,
  // No whitespace between tokens, no newline at the end: for results that
  // travel and are stored (a third fewer bytes for a typical decomposition;
  // skillctl indents them again for display).
  kCompact,
};

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_JSON_LAYOUT_H_
