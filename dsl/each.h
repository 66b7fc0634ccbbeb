// Includes one file per name of a list of dsl/units.hpp: define KILN_EACH (the list) and
// KILN_EACH_PATH(name) (the file, a string), include this, and the files are included in the
// list's order (Boost.Preprocessor's file iteration). With KILN_EACH_OPTIONAL defined, a name
// without its file is passed over (the regularizers without a vector stage, max_norm).
// KILN_EACH, KILN_EACH_PATH and KILN_EACH_OPTIONAL are undefined afterwards.
//
// A file included from here must not include, the first time, a header that iterates a list
// itself: include such headers (update.hpp, op.hpp, ...) before iterating.
// No include guard: included once per list.
#include <boost/preprocessor/iteration/iterate.hpp>
#include <boost/preprocessor/seq/elem.hpp>
#include <boost/preprocessor/seq/size.hpp>
#include <boost/preprocessor/stringize.hpp>

#if !BOOST_PP_IS_ITERATING
#define BOOST_PP_ITERATION_LIMITS (0, BOOST_PP_SEQ_SIZE(KILN_EACH) - 1)
#define BOOST_PP_FILENAME_1 "kiln/dsl/each.h"
#include BOOST_PP_ITERATE()
#undef KILN_EACH
#undef KILN_EACH_PATH
#undef KILN_EACH_OPTIONAL
#elif !defined(KILN_EACH_OPTIONAL)
#include KILN_EACH_PATH(BOOST_PP_SEQ_ELEM(BOOST_PP_ITERATION(), KILN_EACH))
#elif __has_include(KILN_EACH_PATH(BOOST_PP_SEQ_ELEM(BOOST_PP_ITERATION(), KILN_EACH)))
#include KILN_EACH_PATH(BOOST_PP_SEQ_ELEM(BOOST_PP_ITERATION(), KILN_EACH))
#endif
