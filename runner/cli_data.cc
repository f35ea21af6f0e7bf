// `hrm prepare`, `hrm tokenize`, `hrm detokenize`: nanoGPT token files from
// text, and the tokenizers by hand.
#include <fmt/format.h>

#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>

#include "base/atomic_file.h"
#include "base/builtin_corpus.h"
#include "base/token_data.h"
#include "base/tokenizer.h"
#include "runner/cli.h"

namespace hrm {
namespace {

std::string ReadInput(const std::string& file) {
  if (file != "-") return ReadFile(file);
  return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
}

int ParseId(const std::string& word) {
  size_t used = 0;
  int id = -1;
  try {
    id = std::stoi(word, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != word.size()) {
    throw std::invalid_argument("not a token id: '" + word + "'");
  }
  return id;
}

CLI::Option* AddTokenizerOption(CLI::App* cmd, std::string* name) {
  return cmd
      ->add_option("--tokenizer", *name,
                   "byte (vocab 256; the config's default) or gpt2 (GPT-2 BPE, vocab 50257)")
      ->check(CLI::IsMember({"gpt2", "byte"}))
      ->capture_default_str();
}

}  // namespace

void RegisterDataCommands(CLI::App& app, int* rc) {
  struct Options {
    std::string tokenizer = "byte";  // the config's `tokenizer` default
    std::string input, out, file = "-";
    double val_fraction = 0.1;
  };
  auto o = std::make_shared<Options>();

  CLI::App* prepare = app.add_subcommand(
      "prepare",
      "write nanoGPT train.bin/val.bin (uint16 ids) and meta.json from a text file; documents are "
      "separated by lines holding only '%' and each ends with the tokenizer's end-of-text id. "
      "Without --input, prepares the builtin corpus into the cache and prints its directory");
  AddTokenizerOption(prepare, &o->tokenizer);
  auto* input =
      prepare->add_option("--input", o->input, "UTF-8 text file")->check(CLI::ExistingFile);
  prepare->add_option("--out", o->out, "output directory (created)")->needs(input);
  input->needs(prepare->get_option("--out"));
  prepare->add_option("--val-fraction", o->val_fraction, "share of tokens, at the end, for val.bin")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  prepare->callback([o, rc] {
    Guard("prepare", rc, [&] {
      if (o->input.empty()) {
        std::cout << BuiltinDataDir(o->tokenizer) << "\n";
        return;
      }
      nlohmann::json meta =
          PrepareCorpus(*MakeTokenizer(o->tokenizer), o->input, o->out, o->val_fraction);
      std::cout << fmt::format(
          "wrote {}: {} train + {} val tokens from {} documents ({}, vocab {})\n", o->out,
          meta["train_tokens"].dump(), meta["val_tokens"].dump(),
          meta["source"]["documents"].dump(), o->tokenizer, meta["vocab_size"].dump());
    });
  });

  CLI::App* tokenize =
      app.add_subcommand("tokenize", "print the token ids of a text, space-separated on one line");
  AddTokenizerOption(tokenize, &o->tokenizer);
  tokenize->add_option("file", o->file, "text file, or - for stdin")->capture_default_str();
  tokenize->callback([o, rc] {
    Guard("tokenize", rc, [&] {
      std::vector<int> ids = MakeTokenizer(o->tokenizer)->Encode(ReadInput(o->file));
      std::string line;
      for (size_t i = 0; i < ids.size(); ++i) line += (i ? " " : "") + std::to_string(ids[i]);
      std::cout << line << "\n";
    });
  });

  CLI::App* detokenize =
      app.add_subcommand("detokenize", "print the text of whitespace-separated token ids");
  AddTokenizerOption(detokenize, &o->tokenizer);
  detokenize->add_option("file", o->file, "file of ids, or - for stdin")->capture_default_str();
  detokenize->callback([o, rc] {
    Guard("detokenize", rc, [&] {
      std::istringstream in(ReadInput(o->file));
      std::vector<int> ids;
      for (std::string word; in >> word;) ids.push_back(ParseId(word));
      std::cout << MakeTokenizer(o->tokenizer)->Decode(ids);
    });
  });
}

}  // namespace hrm
