// The one translation unit that compiles Asio, Asio's SSL support and Beast (separate compilation keeps
// builds quick). Built as monolite_asio, which the server and replica/ both link.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
