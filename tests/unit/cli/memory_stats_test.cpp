#include "cli/memory_stats.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

namespace passenger::cli {
namespace {

ProcessMemory process(pid_t pid, pid_t ppid, std::string comm, std::string command,
                      std::string exe = "") {
    ProcessMemory p;
    p.pid = pid;
    p.ppid = ppid;
    p.comm = std::move(comm);
    p.command = std::move(command);
    p.exe = std::move(exe);
    return p;
}

std::vector<pid_t> pids_of(const MemorySection& section) {
    std::vector<pid_t> pids;
    for (const ProcessMemory& p : section.processes) pids.push_back(p.pid);
    return pids;
}

const std::string kExe = "/opt/passenger/build/passenger";

TEST(MemorySections, SortsProcessesIntoSections) {
    std::vector<ProcessMemory> table = {
        process(1, 0, "init", "/sbin/init"),
        process(10, 1, "nginx", "nginx: master process", "/usr/sbin/nginx"),
        process(11, 10, "nginx", "nginx: worker process", "/usr/sbin/nginx"),
        process(20, 1, "passenger", "bin/passenger start --port 3000", kExe),
        process(21, 20, "passenger", "passenger core", kExe),
        process(22, 21, "node", "node app.js"),
        process(23, 22, "sh", "sh -c child of the app"),
        process(30, 1, "passenger", "bin/passenger stop", kExe),  // not a server
        process(40, 1, "bash", "bash"),
        process(50, 1, "passenger", "passenger-memory-stats", kExe),  // this tool
    };
    auto sections = memory_sections(table, {}, kExe, 50);
    ASSERT_EQ(sections.size(), 3u);
    EXPECT_EQ(sections[0].title, "Nginx processes");
    EXPECT_EQ(pids_of(sections[0]), (std::vector<pid_t>{10, 11}));
    EXPECT_EQ(sections[1].title, "Passenger processes");
    EXPECT_EQ(pids_of(sections[1]), (std::vector<pid_t>{20, 21}));
    EXPECT_EQ(sections[2].title, "Application processes");
    EXPECT_EQ(pids_of(sections[2]), (std::vector<pid_t>{22, 23}));
}

TEST(MemorySections, RegistryPidsCountEvenWhenTheBinaryIsUnknown) {
    std::vector<ProcessMemory> table = {
        process(20, 1, "passenger", "passenger start"),
        process(21, 20, "passenger", "passenger core"),
        process(22, 21, "node", "node app.js"),
        process(60, 1, "httpd", "/usr/sbin/httpd -DFOREGROUND"),
    };
    admin::Instance instance;
    instance.properties.watchdog_pid = 20;
    instance.properties.core_pid = 21;
    auto sections = memory_sections(table, {instance}, "", 999);
    ASSERT_EQ(sections.size(), 3u);
    EXPECT_EQ(sections[0].title, "Apache processes");
    EXPECT_EQ(pids_of(sections[1]), (std::vector<pid_t>{20, 21}));
    EXPECT_EQ(pids_of(sections[2]), (std::vector<pid_t>{22}));
}

TEST(MemorySections, NoServerMeansEmptySections) {
    auto sections = memory_sections({process(1, 0, "init", "/sbin/init")}, {}, kExe, 2);
    ASSERT_EQ(sections.size(), 2u);
    EXPECT_TRUE(sections[0].processes.empty());
    EXPECT_TRUE(sections[1].processes.empty());
}

TEST(FormatMemorySections, ColumnsAndTotals) {
    MemorySection section{"Passenger processes", {}};
    ProcessMemory known = process(20, 1, "passenger", "passenger start");
    known.vm_size_kb = 223642;
    known.private_dirty_kb = 2048;
    ProcessMemory unknown = process(21, 20, "passenger", "passenger core");
    unknown.vm_size_kb = 1024;
    section.processes = {known, unknown};
    std::string text = format_memory_sections({section});
    EXPECT_NE(text.find("---------- Passenger processes ----------\n"
                        "PID      PPID     VMSize      Private     Name\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("20       1        218.4 MB    2.0 MB      passenger start\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("21       20       1.0 MB      ?           passenger core\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("### Processes: 2\n### Total private dirty RSS: 2.00 MB (not counting 1 "
                        "process(es) this user may not inspect)\n"),
              std::string::npos)
        << text;
}

TEST(ReadProcessTable, SeesThisProcessWithItsMemory) {
    std::vector<ProcessMemory> table = read_process_table();
    auto self = std::find_if(table.begin(), table.end(),
                             [](const ProcessMemory& p) { return p.pid == ::getpid(); });
    ASSERT_NE(self, table.end());
    EXPECT_EQ(self->ppid, ::getppid());
    EXPECT_NE(self->command.find("unit_tests"), std::string::npos);
    EXPECT_NE(self->exe.find("unit_tests"), std::string::npos);
    read_memory(*self);
    ASSERT_TRUE(self->vm_size_kb.has_value());
    EXPECT_GT(*self->vm_size_kb, 0u);
    ASSERT_TRUE(self->private_dirty_kb.has_value());
    EXPECT_GT(*self->private_dirty_kb, 0u);
}

}  // namespace
}  // namespace passenger::cli
