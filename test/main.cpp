#define BOOST_TEST_MODULE monolite unit tests
#include <boost/test/unit_test.hpp>
