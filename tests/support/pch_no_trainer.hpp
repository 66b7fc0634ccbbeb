// Precompiled for the suites that generate no trainer (the runtime alone, or one part of codegen/):
// Boost.Test's tools and the standard headers they all use. BOOST_TEST_MAIN: see pch_trainer.hpp.
#define BOOST_TEST_MAIN
#include <boost/test/test_tools.hpp>

#include <filesystem>
#include <string>
#include <vector>
