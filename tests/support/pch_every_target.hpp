// Precompiled for the suites that compare every Highway target's code: Boost.Test's tools and
// the generated update loops with their dispatch tables (no trainer: these suites do not
// depend on codegen/trainer.hpp). BOOST_TEST_MAIN: see pch_trainer.hpp.
#define BOOST_TEST_MAIN
#include <boost/test/test_tools.hpp>
#include <kiln/codegen/generate.hpp>
#include <kiln/codegen/update/reference.hpp>
#include <kiln/dsl/dsl.hpp>
