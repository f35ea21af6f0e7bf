// What a report table is made of, as data: which sweep, which rows (a label
// and a match on resolved config fields), which columns (a metric read at a
// point of the run, a config field, a formula, a delta against a baseline
// row), how runs aggregate, and the paper's published value of each cell.
// report/paper_tables.cc holds the paper's Tables 6–22 in these terms.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/config.h"

namespace hrm {

class StoreReader;
struct Table;
struct BuildOptions;

// Where on a run's evaluation curve a value is read.
struct CurvePoint {
  enum Kind {
    kFinal,     // the last evaluation with a value
    kFraction,  // the evaluation nearest to fraction · steps (ties: the earlier)
    kBest,      // the lowest value over all evaluations
  };
  Kind kind = kFinal;
  double fraction = 1.0;
};

enum class ColumnKind {
  kConfig,       // the value of config field `field`
  kParams,       // stored parameters of the row's config (base/param_count.h)
  kKOverM,       // gradient window K/M in percent (unitf, hrm)
  kKvSteps,      // K/V sets cached per token: L (transformer) or M (unitf, hrm)
  kEval,         // eval metric `field` (val_ce, train_ce, grad_norm, lr, tokens, wall_s) at `at`
  kMeasurement,  // measurement `field` whose extra contains `extra`
  kStatus,       // the runs' status
  kDelta,        // column `of` minus the baseline row's column `of`
  kRatio,        // column `of` divided by the baseline row's column `of`
  kDiff,         // column `of` minus column `minus` of the same row
};

// What a cell of several seeds shows.
enum class Show { kMeanStd, kMean, kStd };

struct ColumnSpec {
  std::string id;  // key for paper values, deltas and ordering
  std::string header;
  ColumnKind kind = ColumnKind::kEval;
  std::string field;            // config field, eval metric or measurement metric
  CurvePoint at;                // kEval
  json extra = json::object();  // kMeasurement: keys the measurement's extra must hold
  std::string sweep;            // read this column from another sweep ("" = the row's)
  json match = json::object();  // added to the row's match (e.g. {"seed": 42})
  Show show = Show::kMeanStd;
  std::string of, minus;  // kDelta, kRatio, kDiff
  int decimals = 3;
};

// How the config groups of a cell combine. Runs are grouped by every
// identity field but the seed; a group's value is the mean over its seeds.
enum class Combine {
  kOnly,     // exactly one group expected; several show "N configs"
  kBest,     // the lowest group value
  kTopMean,  // mean of the `top_k` lowest
  kMedian,
  kWorst,  // the highest
};

// Rows generated from the runs: one per group of runs sharing `group_by`.
struct RowExpansion {
  std::vector<std::string> group_by;  // config fields; empty = every identity field but seed
  // Sort keys, most significant first: a column id (its value) or a config
  // field; "-" in front sorts descending. Rows then get {rank} 1, 2, ...
  std::vector<std::string> order;
  // The paper's rows in the same order: their published values go beside the
  // generated rows; a paper row with no generated row is shown with its label.
  std::vector<std::pair<std::string, std::map<std::string, std::string>>> paper_rows;
};

struct RowSpec {
  std::string label;            // for expanded rows a template: {field}, {rank}, {label}
  json match = json::object();  // config fields every run of the row has
  std::string sweep;            // "" = the table's
  std::string baseline;         // row label deltas compare with ("" = the table's)
  Combine combine = Combine::kOnly;
  int top_k = 2;
  std::string
      pick_max;  // when several groups match, keep those with the largest value of this field
  std::map<std::string, std::string> paper;  // column id -> the paper's printed value
  bool section = false;                      // a heading row: label only
  bool expand = false;
  RowExpansion expansion;
};

struct TableSpec {
  std::string name;   // "table6"
  std::string alias;  // the experiment's name, "equal_param"
  std::string title;
  std::string caption;
  std::string sweep;  // grid name of the sweep the rows read
  std::string row_header = "Model";
  std::string baseline;  // default baseline row label
  std::vector<ColumnSpec> columns;
  std::vector<RowSpec> rows;
  std::vector<std::string> notes;  // the paper's footnotes and caveats
  // Tables that are not a rows × columns read of the store (the step trace,
  // the analytic memory tables) are built by this function instead.
  Table (*build)(const TableSpec&, StoreReader&, const BuildOptions&) = nullptr;
};

}  // namespace hrm
