// Metric families and the registry that exposes them.
//
//   metrics::Registry registry;
//   auto& completed = registry.AddCounter("skillstore_tasks_completed_total",
//                                         "Tasks completed", {"type"});
//   metrics::Counter& parse = completed.WithLabels({"parse"});  // keep it
//   parse.Increment();                                           // lock-free
//   std::string text = registry.Expose();  // Prometheus text format 0.0.4
//
// A Family is one metric name with its HELP text, type and label names; each
// distinct tuple of label values is one series (a Counter, Gauge or
// Histogram). Series are created on first use and never removed, so a
// reference returned by WithLabels stays valid for the registry's life: hot
// paths look their series up once and keep the reference, and only the lookup
// takes the family's lock.
//
// Defining a metric with an invalid name, label name or bucket layout, or the
// same name twice with a different type or labels, is a programming error
// (the names are literals in the code) and aborts with a message, like a
// malformed RE2 literal would. The same definition twice returns the same
// family.
//
// Thread-safe.
#ifndef SKILLSTORE_COMMON_METRICS_REGISTRY_H_
#define SKILLSTORE_COMMON_METRICS_REGISTRY_H_

#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/metrics/instruments.h"

namespace skillstore::metrics {

enum class MetricType { kCounter, kGauge, kHistogram };

namespace internal {
// Prints `message` and aborts (the programming errors described above).
[[noreturn]] void DefinitionError(const std::string& message);

// The sample lines of one series.
void AppendSamples(const std::string& name, const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, const Counter& series,
                   std::string* out);
void AppendSamples(const std::string& name, const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, const Gauge& series,
                   std::string* out);
void AppendSamples(const std::string& name, const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, const Histogram& series,
                   std::string* out);
}  // namespace internal

class FamilyBase {
 public:
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // Appends the HELP and TYPE lines and every series' samples.
  void Expose(std::string* out) const;

 protected:
  FamilyBase(std::string name, std::string help, MetricType type,
             std::vector<std::string> label_names)
      : name_(std::move(name)),
        help_(std::move(help)),
        type_(type),
        label_names_(std::move(label_names)) {}

  virtual void AppendAllSamples(std::string* out) const = 0;

 private:
  const std::string name_;
  const std::string help_;
  const MetricType type_;
  const std::vector<std::string> label_names_;
};

template <typename T>
class Family final : public FamilyBase {
 public:
  using Factory = std::function<std::unique_ptr<T>()>;

  Family(std::string name, std::string help, MetricType type, std::vector<std::string> label_names,
         Factory factory)
      : FamilyBase(std::move(name), std::move(help), type, std::move(label_names)),
        factory_(std::move(factory)) {}

  // The series for `values`, one per label name in order (aborts on a count
  // mismatch). Created at zero on first use.
  T& WithLabels(const std::vector<std::string>& values) {
    if (values.size() != label_names().size()) {
      internal::DefinitionError("metric " + name() + " has " +
                                std::to_string(label_names().size()) + " labels, got " +
                                std::to_string(values.size()) + " values");
    }
    std::lock_guard<std::mutex> lock(mu_);
    std::unique_ptr<T>& series = series_[values];
    if (series == nullptr) series = factory_();
    return *series;
  }
  T& WithLabels(std::initializer_list<std::string_view> values) {
    return WithLabels(std::vector<std::string>(values.begin(), values.end()));
  }
  // The one series of a family without labels.
  T& Get() { return WithLabels(std::vector<std::string>{}); }

 private:
  void AppendAllSamples(std::string* out) const override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [values, series] : series_) {
      internal::AppendSamples(name(), label_names(), values, *series, out);
    }
  }

  const Factory factory_;
  mutable std::mutex mu_;
  // Ordered, so the exposition is stable from scrape to scrape.
  std::map<std::vector<std::string>, std::unique_ptr<T>> series_;  // guarded by mu_
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Conventions (not enforced): counters end in _total, units are base units
  // (_seconds, _bytes), names carry the program's prefix.
  Family<Counter>& AddCounter(std::string_view name, std::string_view help,
                              std::vector<std::string> label_names = {});
  Family<Gauge>& AddGauge(std::string_view name, std::string_view help,
                          std::vector<std::string> label_names = {});
  // `bounds`: finite, strictly increasing upper bounds (+Inf is implicit).
  // The label name "le" is reserved for the buckets.
  Family<Histogram>& AddHistogram(std::string_view name, std::string_view help,
                                  std::vector<std::string> label_names,
                                  std::vector<double> bounds);

  // `hook` runs at the start of every Expose(), before any family is read:
  // the place to copy state kept elsewhere (queue depth, in-memory counts)
  // into gauges. Hooks run one scrape at a time, in the order added.
  void AddCollectHook(std::function<void()> hook);

  // Every family in the order defined, in the text format 0.0.4.
  std::string Expose() const;

 private:
  FamilyBase* Find(std::string_view name, MetricType type,
                   const std::vector<std::string>& label_names) const;
  void CheckDefinition(std::string_view name, const std::vector<std::string>& label_names) const;

  mutable std::mutex expose_mu_;  // one Expose() at a time (hooks need not be reentrant)
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<FamilyBase>> families_;  // guarded by mu_
  std::vector<std::function<void()>> hooks_;            // guarded by mu_
};

}  // namespace skillstore::metrics

#endif  // SKILLSTORE_COMMON_METRICS_REGISTRY_H_
