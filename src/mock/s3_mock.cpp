// placeholder: being written
#include "mock/mock_server.hpp"
namespace vmeval::mock {
void register_s3(httplib::Server&, MockContext&) {}
}  // namespace vmeval::mock
