#include "common/metrics/registry.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "common/metrics/exposition.h"

namespace skillstore::metrics {
namespace internal {

void DefinitionError(const std::string& message) {
  std::fprintf(stderr, "metrics: %s\n", message.c_str());
  std::abort();
}

void AppendSamples(const std::string& name, const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, const Counter& series,
                   std::string* out) {
  *out += name;
  *out += FormatLabels(label_names, label_values);
  *out += ' ';
  *out += FormatValue(series.Value());
  *out += '\n';
}

void AppendSamples(const std::string& name, const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, const Gauge& series,
                   std::string* out) {
  *out += name;
  *out += FormatLabels(label_names, label_values);
  *out += ' ';
  *out += FormatValue(series.Value());
  *out += '\n';
}

void AppendSamples(const std::string& name, const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, const Histogram& series,
                   std::string* out) {
  const Histogram::Snapshot snapshot = series.Collect();
  for (size_t i = 0; i < snapshot.cumulative.size(); ++i) {
    const std::pair<std::string, std::string> le = {
        "le", i < snapshot.bounds.size() ? FormatValue(snapshot.bounds[i]) : "+Inf"};
    *out += name;
    *out += "_bucket";
    *out += FormatLabels(label_names, label_values, &le);
    *out += ' ';
    *out += FormatValue(static_cast<double>(snapshot.cumulative[i]));
    *out += '\n';
  }
  const std::string labels = FormatLabels(label_names, label_values);
  *out += name + "_sum" + labels + " " + FormatValue(snapshot.sum) + "\n";
  *out += name + "_count" + labels + " " + FormatValue(static_cast<double>(snapshot.count)) + "\n";
}

}  // namespace internal

namespace {

const char* TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

}  // namespace

void FamilyBase::Expose(std::string* out) const {
  *out += "# HELP " + name_ + " " + EscapeHelp(help_) + "\n";
  *out += "# TYPE " + name_ + " " + TypeName(type_) + "\n";
  AppendAllSamples(out);
}

FamilyBase* Registry::Find(std::string_view name, MetricType type,
                           const std::vector<std::string>& label_names) const {
  for (const auto& family : families_) {
    if (family->name() != name) continue;
    if (family->type() != type || family->label_names() != label_names) {
      internal::DefinitionError("metric " + std::string(name) +
                                " defined twice with different types or labels");
    }
    return family.get();
  }
  return nullptr;
}

void Registry::CheckDefinition(std::string_view name,
                               const std::vector<std::string>& label_names) const {
  if (!IsValidMetricName(name)) {
    internal::DefinitionError("invalid metric name '" + std::string(name) + "'");
  }
  for (size_t i = 0; i < label_names.size(); ++i) {
    if (!IsValidLabelName(label_names[i])) {
      internal::DefinitionError("metric " + std::string(name) + ": invalid label name '" +
                                label_names[i] + "'");
    }
    for (size_t j = 0; j < i; ++j) {
      if (label_names[i] == label_names[j]) {
        internal::DefinitionError("metric " + std::string(name) + ": label '" + label_names[i] +
                                  "' given twice");
      }
    }
  }
}

Family<Counter>& Registry::AddCounter(std::string_view name, std::string_view help,
                                      std::vector<std::string> label_names) {
  CheckDefinition(name, label_names);
  std::lock_guard<std::mutex> lock(mu_);
  if (FamilyBase* found = Find(name, MetricType::kCounter, label_names)) {
    return static_cast<Family<Counter>&>(*found);
  }
  auto family = std::make_unique<Family<Counter>>(
      std::string(name), std::string(help), MetricType::kCounter, std::move(label_names),
      [] { return std::make_unique<Counter>(); });
  Family<Counter>& ref = *family;
  families_.push_back(std::move(family));
  return ref;
}

Family<Gauge>& Registry::AddGauge(std::string_view name, std::string_view help,
                                  std::vector<std::string> label_names) {
  CheckDefinition(name, label_names);
  std::lock_guard<std::mutex> lock(mu_);
  if (FamilyBase* found = Find(name, MetricType::kGauge, label_names)) {
    return static_cast<Family<Gauge>&>(*found);
  }
  auto family = std::make_unique<Family<Gauge>>(std::string(name), std::string(help),
                                                MetricType::kGauge, std::move(label_names),
                                                [] { return std::make_unique<Gauge>(); });
  Family<Gauge>& ref = *family;
  families_.push_back(std::move(family));
  return ref;
}

Family<Histogram>& Registry::AddHistogram(std::string_view name, std::string_view help,
                                          std::vector<std::string> label_names,
                                          std::vector<double> bounds) {
  CheckDefinition(name, label_names);
  for (const std::string& label : label_names) {
    if (label == "le") {
      internal::DefinitionError("histogram " + std::string(name) +
                                ": the label name 'le' is reserved for buckets");
    }
  }
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1])) {
      internal::DefinitionError("histogram " + std::string(name) +
                                ": bucket bounds must be finite and strictly increasing");
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (FamilyBase* found = Find(name, MetricType::kHistogram, label_names)) {
    return static_cast<Family<Histogram>&>(*found);
  }
  auto family = std::make_unique<Family<Histogram>>(
      std::string(name), std::string(help), MetricType::kHistogram, std::move(label_names),
      [bounds = std::move(bounds)] { return std::make_unique<Histogram>(bounds); });
  Family<Histogram>& ref = *family;
  families_.push_back(std::move(family));
  return ref;
}

void Registry::AddCollectHook(std::function<void()> hook) {
  std::lock_guard<std::mutex> lock(mu_);
  hooks_.push_back(std::move(hook));
}

std::string Registry::Expose() const {
  std::lock_guard<std::mutex> expose_lock(expose_mu_);
  std::vector<std::function<void()>> hooks;
  std::vector<const FamilyBase*> families;
  {
    std::lock_guard<std::mutex> lock(mu_);
    hooks = hooks_;
    for (const auto& family : families_) families.push_back(family.get());
  }
  for (const auto& hook : hooks) hook();
  std::string out;
  for (const FamilyBase* family : families) family->Expose(&out);
  return out;
}

}  // namespace skillstore::metrics
