// Rendering of a Progress message for people: the one-shot summary of
// `skillctl progress` and the live view of `watch` / `wait`.
//
//   [##############..........]  58%  116/200  12.3/s  ETA 7s
//   queued 60  running 24  completed 110  failed 6  cancelled 0  workers 3
#ifndef SKILLSTORE_CLI_PROGRESS_VIEW_H_
#define SKILLSTORE_CLI_PROGRESS_VIEW_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "skillstore/v1/skillstore.pb.h"

namespace skillstore::cli {

// True when nothing is queued or in progress.
bool Idle(const v1::Progress& progress);

// Tasks that reached a final state (completed, failed, cancelled).
int64_t Finished(const v1::Progress& progress);

// The two lines above, without trailing newlines.
std::string ProgressBarLine(const v1::Progress& progress);
std::string ProgressCountsLine(const v1::Progress& progress);

// Redraws the two-line view in place on a terminal, or prints a new pair of
// lines at most every `min_interval_ms` (and always for the final state)
// when the output is a file or a pipe, so logs stay readable.
class LiveProgress {
 public:
  LiveProgress(std::ostream& out, bool terminal, int64_t min_interval_ms);

  void Update(const v1::Progress& progress, bool final_update);

  // Prints a message line between updates without garbling the view.
  void Message(const std::string& line);

 private:
  std::ostream& out_;
  bool terminal_;
  int64_t min_interval_ms_;
  int64_t last_print_ms_ = 0;
  bool drawn_ = false;  // a view is on screen (terminal mode)
  std::string last_text_;
};

}  // namespace skillstore::cli

#endif  // SKILLSTORE_CLI_PROGRESS_VIEW_H_
