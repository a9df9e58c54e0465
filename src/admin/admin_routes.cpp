#include "admin/admin_routes.hpp"

#include "admin/metrics.hpp"

#include <fmt/format.h>

#include <array>

namespace passenger::admin {
namespace {

struct Route {
    std::string_view method;
    std::string_view path;
    AccessKind access;
    std::string_view description;
};

constexpr std::array kRoutes = {
    Route{"GET", "/", AccessKind::read, "this list"},
    Route{"GET", "/instance", AccessKind::read, "the instance's properties"},
    Route{"GET", "/pool", AccessKind::read, "the application pool"},
    Route{"GET", "/requests", AccessKind::read, "the requests in flight"},
    Route{"GET", "/metrics", AccessKind::read, "Prometheus metrics"},
    Route{"GET", "/tls", AccessKind::read, "HTTPS: the certificate and the latest reload"},
    Route{"POST", "/pool/restart_app", AccessKind::modify,
          "restart an app: {\"app_root\": \"/path\"}"},
};

// Invalid UTF-8 (a client's URI, a path) is replaced rather than thrown over.
AdminResponse json_response(const nlohmann::json& value, int status = 200) {
    return {status, "application/json",
            value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"};
}

std::string without_trailing_slashes(std::string path) {
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    return path;
}

AdminResponse restart_app(AdminBackend& backend, const AdminRequest& request) {
    nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
        return json_error(400, "the body must be a JSON object like {\"app_root\": \"/path\"}");
    auto field = body.find("app_root");
    if (field == body.end() || !field->is_string() || field->get<std::string>().empty())
        return json_error(400, "\"app_root\" (a non-empty string) is required");
    std::string app_root = without_trailing_slashes(field->get<std::string>());
    if (!backend.restart_app(app_root))
        return json_error(404, fmt::format("no application with root {}", app_root));
    return json_response({{"restarted", nlohmann::json::array({app_root})}});
}

AdminResponse dispatch(AdminBackend& backend, const AdminRequest& request, const Route& route) {
    if (route.path == "/") {
        nlohmann::json list = nlohmann::json::array();
        for (const Route& each : kRoutes)
            list.push_back(fmt::format("{} {}: {}", each.method, each.path, each.description));
        return json_response({{"endpoints", list}});
    }
    if (route.path == "/instance") return json_response(backend.instance());
    if (route.path == "/pool") return json_response(backend.pool());
    if (route.path == "/requests") return json_response({{"requests", backend.requests()}});
    if (route.path == "/tls") return json_response(backend.tls());
    if (route.path == "/metrics")
        return {200, std::string(kMetricsContentType), prometheus_metrics(backend.pool())};
    return restart_app(backend, request);
}

}  // namespace

AdminResponse json_error(int status, std::string_view message) {
    return json_response({{"error", message}}, status);
}

AdminResponse handle_admin_request(AdminBackend& backend, const AdminRequest& request) {
    if (!may_access(request.peer_uid, backend.owner_uid(), AccessKind::read))
        return json_error(403, "only root and the instance's user may use this admin API");
    std::string_view path = request.target;
    path = path.substr(0, path.find('?'));
    if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);

    const Route* match = nullptr;
    std::string allowed;
    for (const Route& route : kRoutes) {
        if (route.path != path) continue;
        if (!allowed.empty()) allowed += ", ";
        allowed += route.method;
        if (route.method == request.method) match = &route;
    }
    if (allowed.empty())
        return json_error(404, fmt::format("no such endpoint: {} (GET / lists them)", path));
    if (match == nullptr)
        return json_error(
            405, fmt::format("{} is not allowed on {}; use {}", request.method, path, allowed));
    if (!may_access(request.peer_uid, backend.owner_uid(), match->access))
        return json_error(403, "only root and the instance's user may change it");
    try {
        return dispatch(backend, request, *match);
    } catch (const std::exception& error) {
        return json_error(500, fmt::format("internal error: {}", error.what()));
    }
}

}  // namespace passenger::admin
