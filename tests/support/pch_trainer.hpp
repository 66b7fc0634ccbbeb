// Precompiled for the suites that generate trainers: Boost.Test's tools and <kiln/kiln.hpp>,
// which together take most of a suite's parse time. A suite still starts with
// `#define BOOST_TEST_MODULE name` and `#include <boost/test/unit_test.hpp>`: Boost reads
// BOOST_TEST_MODULE to define BOOST_TEST_MAIN in a header parsed here, before the suite's own
// lines, so it is defined here instead, and unit_test.hpp still gives the suite its main().
#define BOOST_TEST_MAIN
#include <boost/test/test_tools.hpp>
#include <kiln/kiln.hpp>
