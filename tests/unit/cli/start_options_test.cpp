#include "cli/start_options.hpp"

#include <gtest/gtest.h>

namespace passenger::cli {
namespace {

StartCommandLine parse(std::vector<std::string> args) {
    return parse_start_options(args);
}

TEST(StartOptions, DefaultsArePassengers) {
    StartCommandLine result = parse({});
    ASSERT_EQ(result.error, "");
    EXPECT_EQ(result.app_dir, "");
    EXPECT_EQ(result.options.port, 3000);
    EXPECT_EQ(result.options.address, "0.0.0.0");
    EXPECT_EQ(result.options.environment, "development");
    EXPECT_FALSE(result.options.daemonize);
    EXPECT_EQ(result.options.log_file, "");
    EXPECT_EQ(result.options.pid_file, "");
    EXPECT_EQ(result.options.max_connections, 4096);
}

// From the command line, Passengerfile.json and PASSENGER_MAX_CONNECTIONS, like every option.
TEST(StartOptions, MaxConnections) {
    EXPECT_EQ(parse({"--max-connections", "3"}).options.max_connections, 3);
    EXPECT_EQ(parse({"--max-connections", "0"}).error,
              "--max-connections: '0' is not a whole number >= 1");
    EXPECT_EQ(parse_start_options({}, nlohmann::json::parse(R"({"max_connections": 10})"))
                  .options.max_connections,
              10);
    std::string entry = "PASSENGER_MAX_CONNECTIONS=20";
    char* environment[] = {entry.data(), nullptr};
    EXPECT_EQ(settings_from_environment(environment),
              nlohmann::json::parse(R"({"max_connections": "20"})"));
}

// 0 (the default) means one per CPU; from the command line, Passengerfile.json and the
// environment like every option.
TEST(StartOptions, CoreThreads) {
    EXPECT_EQ(parse({}).options.core_threads, 0);
    EXPECT_EQ(parse({"--core-threads", "1"}).options.core_threads, 1);
    EXPECT_EQ(parse({"--core-threads", "0"}).error,
              "--core-threads: '0' is not a whole number from 1 to 1024");
    EXPECT_EQ(parse({"--core-threads", "many"}).error,
              "--core-threads: 'many' is not a whole number from 1 to 1024");
    EXPECT_EQ(parse_start_options({}, nlohmann::json::parse(R"({"core_threads": 3})"))
                  .options.core_threads,
              3);
    std::string entry = "PASSENGER_CORE_THREADS=2";
    char* environment[] = {entry.data(), nullptr};
    EXPECT_EQ(settings_from_environment(environment),
              nlohmann::json::parse(R"({"core_threads": "2"})"));
}

TEST(StartOptions, ReadsEveryFlag) {
    StartCommandLine result = parse({"myapp",
                                     "-p",
                                     "3001",
                                     "--address",
                                     "127.0.0.1",
                                     "-e",
                                     "production",
                                     "--log-file",
                                     "l.log",
                                     "--pid-file=p.pid",
                                     "-d",
                                     "--nodejs",
                                     "/usr/bin/node",
                                     "--startup-file",
                                     "server.js",
                                     "--envvar",
                                     "A=1",
                                     "--envvar",
                                     "B=x=y",
                                     "--min-instances",
                                     "2",
                                     "--max-pool-size",
                                     "8",
                                     "--start-timeout",
                                     "30",
                                     "--max-request-queue-size",
                                     "0",
                                     "--log-level",
                                     "4",
                                     "--app-type",
                                     "node"});
    ASSERT_EQ(result.error, "");
    const config::Options& options = result.options;
    EXPECT_EQ(result.app_dir, "myapp");
    EXPECT_EQ(options.port, 3001);
    EXPECT_EQ(options.address, "127.0.0.1");
    EXPECT_EQ(options.environment, "production");
    EXPECT_EQ(options.log_file, "l.log");
    EXPECT_EQ(options.pid_file, "p.pid");
    EXPECT_TRUE(options.daemonize);
    EXPECT_EQ(options.nodejs, "/usr/bin/node");
    EXPECT_EQ(options.startup_file, "server.js");
    EXPECT_EQ(options.envvars.size(), 2u);
    EXPECT_EQ(options.envvars.at("A"), "1");
    EXPECT_EQ(options.envvars.at("B"), "x=y");
    EXPECT_EQ(options.min_instances, 2);
    EXPECT_EQ(options.max_pool_size, 8);
    EXPECT_EQ(options.start_timeout_seconds, 30);
    EXPECT_EQ(options.max_request_queue_size, 0);
    EXPECT_EQ(options.log_level, 4);
    EXPECT_EQ(options.app_type, "node");
}

TEST(StartOptions, AppDirMayFollowFlags) {
    StartCommandLine result = parse({"--port", "4000", "/srv/app"});
    ASSERT_EQ(result.error, "");
    EXPECT_EQ(result.app_dir, "/srv/app");
    EXPECT_EQ(result.options.port, 4000);
}

TEST(StartOptions, EnvvarTakesOneValuePerFlag) {
    StartCommandLine result = parse({"--envvar", "A=1", "appdir"});
    ASSERT_EQ(result.error, "");
    EXPECT_EQ(result.app_dir, "appdir");
    EXPECT_EQ(result.options.envvars.size(), 1u);
}

struct BadInput {
    std::vector<std::string> args;
    std::string error;
};

class StartOptionsRejects : public ::testing::TestWithParam<BadInput> {};

TEST_P(StartOptionsRejects, WithOneLineNamingTheOption) {
    StartCommandLine result = parse(GetParam().args);
    EXPECT_EQ(result.error, GetParam().error);
    EXPECT_EQ(result.error.find('\n'), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    BadValues, StartOptionsRejects,
    testing::Values(
        BadInput{{"--port", "70000"}, "--port: '70000' is not a port number (1-65535)"},
        BadInput{{"-p", "0"}, "--port: '0' is not a port number (1-65535)"},
        BadInput{{"--port", "80x"}, "--port: '80x' is not a port number (1-65535)"},
        BadInput{{"--port"}, "--port: missing value"},
        BadInput{{"--frobnicate"}, "unknown option --frobnicate"},
        BadInput{{"--frobnicate=3"}, "unknown option --frobnicate"},
        BadInput{{"-z"}, "unknown option -z"},
        BadInput{{"app1", "app2"}, "unexpected argument 'app2'"},
        BadInput{{"--envvar", "FOO"}, "--envvar: 'FOO' is not NAME=VALUE"},
        BadInput{{"--envvar", "=x"},
                 "--envvar: '' is not a valid variable name (letters, digits, _)"},
        BadInput{{"--log-level", "5"}, "--log-level: '5' is not a log level (0-4)"},
        BadInput{{"--max-pool-size", "0"}, "--max-pool-size: '0' is not a whole number >= 1"},
        BadInput{{"--min-instances", "-1"}, "--min-instances: '-1' is not a whole number >= 0"},
        BadInput{{"--start-timeout", "soon"},
                 "--start-timeout: 'soon' is not a number of seconds >= 1"},
        BadInput{{"--environment", ""}, "--environment: must not be empty"},
        BadInput{{"--health-check-path", "health"},
                 "--health-check-path: 'health' must start with /"},
        BadInput{{"--drain-timeout", "-1"},
                 "--drain-timeout: '-1' is not a number of seconds >= 0"},
        BadInput{{"--trusted-proxy", "10.0.0.0/40"},
                 "--trusted-proxy: '10.0.0.0/40' has no valid prefix length (IPv4: /0-32, "
                 "IPv6: /0-128)"},
        BadInput{{"--trusted-proxy", "10.0.0.1,proxy"},
                 "--trusted-proxy: 'proxy' is not an IPv4 or IPv6 address or CIDR block"},
        BadInput{{"--metrics-address", "9100"}, "--metrics-address: '9100' is not HOST:PORT"},
        BadInput{{"--metrics-address", "127.0.0.1:3000"},
                 "--metrics-address: port 3000 is the app's port; choose another"},
        BadInput{{"--log-format", "xml"}, "--log-format: 'xml' is not one of: text, json"},
        BadInput{{"--app", "example.com"}, "--app: 'example.com' is not HOST=DIR"},
        BadInput{{"--app", "a b=/srv"},
                 "--app: 'a b' is not a host name (letters, digits, . and -)"},
        BadInput{{"--app", "a.example=/x", "--app", "A.example=/y"},
                 "--app: host 'a.example' is given twice"},
        BadInput{{"--access-log-format", "common"},
                 "--access-log-format: 'common' is not one of: combined, json"}));

TEST(StartOptions, ReadsTheOperationsFlags) {
    StartCommandLine defaults = parse({});
    EXPECT_EQ(defaults.options.operations.health_check_path, "");
    EXPECT_EQ(defaults.options.operations.drain_timeout_seconds, 0);
    EXPECT_EQ(defaults.options.operations.log_format, "text");
    EXPECT_EQ(defaults.options.operations.access_log_format, "combined");
    StartCommandLine result = parse(
        {"--health-check-path", "/healthz", "--drain-timeout", "5", "--trusted-proxy", "10.0.0.0/8",
         "--trusted-proxy", "::1, 192.168.0.0/16", "--metrics-address", "[::1]:9100",
         "--log-format", "json", "--access-log", "-", "--access-log-format", "json"});
    ASSERT_EQ(result.error, "");
    const config::OperationsOptions& ops = result.options.operations;
    EXPECT_EQ(ops.health_check_path, "/healthz");
    EXPECT_EQ(ops.drain_timeout_seconds, 5);
    EXPECT_EQ(ops.trusted_proxies,
              (std::vector<std::string>{"10.0.0.0/8", "::1", "192.168.0.0/16"}));
    EXPECT_EQ(ops.metrics_address, "[::1]:9100");
    EXPECT_EQ(ops.log_format, "json");
    EXPECT_EQ(ops.access_log, "-");
    EXPECT_EQ(ops.access_log_format, "json");
    StartCommandLine apps = parse({"--app", "Shop.Example=/srv/shop", "--app", "b.example=b"});
    ASSERT_EQ(apps.error, "");
    EXPECT_EQ(
        apps.options.operations.host_apps,
        (std::map<std::string, std::string>{{"shop.example", "/srv/shop"}, {"b.example", "b"}}));
    StartCommandLine apps_from_file = parse_start_options(
        {}, nlohmann::json::parse(R"({"apps": {"shop.example": "/srv/shop"}})"));
    ASSERT_EQ(apps_from_file.error, "");
    EXPECT_EQ(apps_from_file.options.operations.host_apps.at("shop.example"), "/srv/shop");
    // Passengerfile.json lists repeatable options as arrays.
    StartCommandLine from_file = parse_start_options(
        {}, nlohmann::json::parse(R"({"trusted_proxy": ["10.0.0.0/8", "::1"]})"));
    ASSERT_EQ(from_file.error, "");
    EXPECT_EQ(from_file.options.operations.trusted_proxies,
              (std::vector<std::string>{"10.0.0.0/8", "::1"}));
}

TEST(StartOptions, ReadsThePolyglotFlags) {
    StartCommandLine result = parse(
        {"-R", "other.ru", "--ruby", "/opt/ruby", "--python", "python3.11", "--meteor-app-settings",
         "settings.json", "--app-start-command", "node s.js --x", "--app-type", "generic"});
    ASSERT_EQ(result.error, "");
    const config::Options& options = result.options;
    EXPECT_EQ(options.rackup, "other.ru");
    EXPECT_EQ(options.ruby, "/opt/ruby");
    EXPECT_EQ(options.python, "python3.11");
    EXPECT_EQ(options.meteor_app_settings, "settings.json");
    EXPECT_EQ(options.app_start_command, "node s.js --x");
    EXPECT_EQ(options.app_type, "generic");
    EXPECT_EQ(parse({"--rackup", "x.ru"}).options.rackup, "x.ru");

    config::Options defaults = parse({}).options;
    EXPECT_EQ(defaults.ruby, "ruby");
    EXPECT_EQ(defaults.python, "python3");
    EXPECT_EQ(defaults.rackup, "");
    EXPECT_EQ(defaults.app_start_command, "");
    EXPECT_EQ(parse({"--app-start-command", ""}).error, "--app-start-command: must not be empty");
}

TEST(StartOptions, ReadsTheRealtimeFlags) {
    config::Options defaults = parse({}).options;
    EXPECT_FALSE(defaults.sticky_sessions);
    EXPECT_EQ(defaults.sticky_sessions_cookie_name, "_passenger_route");
    EXPECT_EQ(defaults.sticky_sessions_cookie_attributes, "SameSite=Lax; Path=/");
    EXPECT_TRUE(defaults.abort_websockets_on_process_shutdown);

    StartCommandLine result =
        parse({"--sticky-sessions", "--sticky-sessions-cookie-name", "route",
               "--sticky-sessions-cookie-attributes", "SameSite=None; Secure; Path=/app",
               "--no-abort-websockets-on-process-shutdown"});
    ASSERT_EQ(result.error, "");
    EXPECT_TRUE(result.options.sticky_sessions);
    EXPECT_EQ(result.options.sticky_sessions_cookie_name, "route");
    EXPECT_EQ(result.options.sticky_sessions_cookie_attributes, "SameSite=None; Secure; Path=/app");
    EXPECT_FALSE(result.options.abort_websockets_on_process_shutdown);
    EXPECT_EQ(parse({"--sticky-sessions-cookie-attributes", ""})
                  .options.sticky_sessions_cookie_attributes,
              "");

    EXPECT_EQ(parse({"--sticky-sessions-cookie-name", "a=b"}).error,
              "--sticky-sessions-cookie-name: 'a=b' is not a cookie name (letters, digits and "
              "!#$%&'*+-.^_`|~)");
    EXPECT_EQ(parse({"--sticky-sessions-cookie-attributes", "Path=/\r\nX-Evil: 1"})
                  .error.rfind("--sticky-sessions-cookie-attributes: ", 0),
              0u);
}

TEST(StartOptions, HelpListsTheOptions) {
    StartCommandLine result = parse({"--help"});
    EXPECT_EQ(result.error, "");
    EXPECT_NE(result.help.find("--port"), std::string::npos);
    EXPECT_NE(result.help.find("--envvar"), std::string::npos);
    EXPECT_NE(result.help.find("--daemonize"), std::string::npos);
}

}  // namespace
}  // namespace passenger::cli

namespace passenger::cli {
namespace {

StartCommandLine parse_with(std::vector<std::string> args, const char* passengerfile) {
    return parse_start_options(args, nlohmann::json::parse(passengerfile));
}

TEST(StartOptionsPassengerfile, SettingsApplyWhereTheCommandLineIsSilent) {
    StartCommandLine result =
        parse_with({"--port", "4001", "--envvar", "B=from the command line"},
                   R"({"port": 4000, "environment": "production", "min_instances": 2,
            "sticky_sessions": true, "daemonize": false, "client_max_body_size": "1m",
            "envvars": {"A": "from the file", "B": "from the file"}})");
    ASSERT_EQ(result.error, "");
    EXPECT_EQ(result.options.port, 4001) << "the command line wins";
    EXPECT_EQ(result.options.environment, "production");
    EXPECT_EQ(result.options.min_instances, 2);
    EXPECT_TRUE(result.options.sticky_sessions);
    EXPECT_FALSE(result.options.daemonize);
    EXPECT_EQ(result.options.front_end.client_max_body_size, 1u << 20);
    EXPECT_EQ(result.options.envvars.at("A"), "from the file");
    EXPECT_EQ(result.options.envvars.at("B"), "from the command line");
}

TEST(StartOptionsPassengerfile, TheAppDirOnTheCommandLineStays) {
    StartCommandLine result = parse_with({"myapp"}, R"({"port": 4000})");
    ASSERT_EQ(result.error, "");
    EXPECT_EQ(result.app_dir, "myapp");
    EXPECT_EQ(result.options.port, 4000);
}

TEST(StartOptionsPassengerfile, BadSettingsAreNamedWithTheFile) {
    EXPECT_EQ(parse_with({}, R"({"frobnicate": 1})").error,
              "Passengerfile.json: unknown setting 'frobnicate'");
    EXPECT_EQ(parse_with({}, R"({"sticky_sessions": "yes"})").error,
              "Passengerfile.json: 'sticky_sessions' must be true or false");
    EXPECT_EQ(parse_with({}, R"({"port": [1]})").error,
              "Passengerfile.json: 'port' must be a string or a whole number");
    EXPECT_EQ(parse_with({}, R"({"envvars": ["A=1"]})").error,
              "Passengerfile.json: 'envvars' must be an object of NAME: VALUE");
    EXPECT_EQ(parse_with({}, R"({"port": 70000})").error.rfind("Passengerfile.json: --port: ", 0),
              0u);
}

TEST(StartOptionsPassengerfile, ACommandLineErrorIsNotBlamedOnTheFile) {
    EXPECT_EQ(parse_with({"--port", "abc"}, R"({"environment": "production"})")
                  .error.rfind("--port: ", 0),
              0u);
}

}  // namespace
}  // namespace passenger::cli

namespace passenger::cli {
namespace {

TEST(StartOptionsEnvironment, PassengerVariablesNamingOptionsAreSettings) {
    std::vector<std::string> entries = {
        "PASSENGER_PORT=4000",    "PASSENGER_STICKY_SESSIONS=true", "PASSENGER_DAEMONIZE=0",
        "PASSENGER_ENVIRONMENT=", "PASSENGER_CORE_OPTIONS={}",      "PASSENGER_APP_ENV=production",
        "PATH=/usr/bin"};
    std::vector<char*> environment;
    for (std::string& entry : entries) environment.push_back(entry.data());
    environment.push_back(nullptr);
    EXPECT_EQ(
        settings_from_environment(environment.data()),
        nlohmann::json::parse(R"({"port": "4000", "sticky_sessions": true, "daemonize": false})"));
}

TEST(StartOptionsEnvironment, CommandLineThenEnvironmentThenPassengerfile) {
    StartCommandLine with_environment = parse_start_options(
        {"--port", "4001"}, nlohmann::json::parse(R"({"port": "4002", "environment": "staging"})"),
        "PASSENGER_* environment variables");
    ASSERT_EQ(with_environment.error, "");
    StartCommandLine result = parse_start_options(
        with_environment.arguments,
        nlohmann::json::parse(
            R"({"port": 4003, "environment": "production", "min_instances": 3})"));
    ASSERT_EQ(result.error, "");
    EXPECT_EQ(result.options.port, 4001);
    EXPECT_EQ(result.options.environment, "staging");
    EXPECT_EQ(result.options.min_instances, 3);

    EXPECT_EQ(parse_start_options({}, nlohmann::json::parse(R"({"port": "x"})"),
                                  "PASSENGER_* environment variables")
                  .error.rfind("PASSENGER_* environment variables: --port: ", 0),
              0u);
}

// Passenger Standalone's TLS options, from flags, Passengerfile.json and PASSENGER_* alike.
TEST(StartOptions, SslFlags) {
    StartCommandLine result =
        parse({"--ssl", "--ssl-certificate", "c.pem", "--ssl-certificate-key", "k.pem",
               "--ssl-port", "3443", "--ssl-protocols", "TLSv1.3", "--ssl-redirect"});
    ASSERT_EQ(result.error, "");
    EXPECT_TRUE(result.options.ssl);
    EXPECT_EQ(result.options.ssl_certificate, "c.pem");
    EXPECT_EQ(result.options.ssl_certificate_key, "k.pem");
    EXPECT_EQ(result.options.ssl_port, 3443);
    EXPECT_EQ(result.options.ssl_protocols, "TLSv1.3");
    EXPECT_TRUE(result.options.ssl_redirect);
    EXPECT_EQ(parse({}).options.ssl_protocols, "TLSv1.2 TLSv1.3");
    EXPECT_EQ(parse({"--ssl-port", "0"}).error, "--ssl-port: '0' is not a port number (1-65535)");
    EXPECT_EQ(parse({"--ssl-protocols", "SSLv3"}).error,
              "--ssl-protocols: SSLv3 is not supported (it is insecure); use TLSv1.2 and/or "
              "TLSv1.3");
    auto from_file = parse_start_options(
        {}, nlohmann::json::parse(R"({"ssl": true, "ssl_certificate": "a", "ssl_port": 8443})"));
    EXPECT_TRUE(from_file.options.ssl);
    EXPECT_EQ(from_file.options.ssl_port, 8443);
    std::string entry = "PASSENGER_SSL_CERTIFICATE_KEY=/k";
    std::string flag = "PASSENGER_SSL=1";
    char* environment[] = {entry.data(), flag.data(), nullptr};
    EXPECT_EQ(settings_from_environment(environment),
              nlohmann::json::parse(R"({"ssl_certificate_key": "/k", "ssl": true})"));
}

TEST(StartOptions, SslOptionsTogether) {
    auto options = [](std::vector<std::string> args) { return parse(std::move(args)).options; };
    EXPECT_EQ(check_ssl_options(options({})), "");
    EXPECT_EQ(check_ssl_options(options({"--ssl", "--ssl-certificate", "c"})),
              "--ssl: needs --ssl-certificate-key");
    EXPECT_EQ(check_ssl_options(options({"--ssl", "--ssl-certificate-key", "k"})),
              "--ssl: needs --ssl-certificate");
    EXPECT_EQ(check_ssl_options(options({"--ssl-port", "3443"})), "--ssl-port: needs --ssl");
    EXPECT_EQ(check_ssl_options(options({"--ssl-certificate", "c"})),
              "--ssl-certificate: needs --ssl");
    const std::vector<std::string> full = {"--ssl", "--ssl-certificate", "c",
                                           "--ssl-certificate-key", "k"};
    EXPECT_EQ(check_ssl_options(options(full)), "");
    auto with = [&](std::vector<std::string> more) {
        std::vector<std::string> args = full;
        args.insert(args.end(), more.begin(), more.end());
        return check_ssl_options(options(args));
    };
    EXPECT_EQ(with({"--ssl-redirect"}),
              "--ssl-redirect: needs --ssl-port (without it, --port serves HTTPS only)");
    EXPECT_EQ(with({"--ssl-port", "3000"}), "--ssl-port: must differ from --port (3000)");
    EXPECT_EQ(with({"--ssl-port", "3443", "--ssl-redirect"}), "");
}

}  // namespace
}  // namespace passenger::cli
