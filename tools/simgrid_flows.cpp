/* tools/simgrid_flows.cpp: the flows of tools/bench_flows.c played on SimGrid's CM02 model,
 * the reference of `make bench-net`'s flows comparison.
 *
 *   build/simgrid_flows DIR [--cfg=...]     (reads DIR/platform.xml, DIR/latency.txt,
 *                                            DIR/flows.csv; CSV like orionsim flows on stdout)
 *
 * One actor sleeps until each flow's start plus its one-way latency and starts a
 * host-to-host communication (Comm::sendto_async) over the sender's uplink and the
 * receiver's downlink, both of latency 0: that is the fluid model of netmodel/README.md
 * (wait the latency, then transfer at the max-min fair share). Putting the latency on
 * the links instead would make CM02 weight each flow's share by 1 / latency (its model
 * of TCP's RTT unfairness) and end with other answers. CM02 is selected with its
 * corrections off (bandwidth and latency factors 1, weight-S 0, no cross-traffic of
 * acknowledgements on the reverse route) and the solver's precision tightened from 1e-5
 * to 1e-9, so that both sides compute the same max-min allocation.
 * Finish times are printed with nine decimals, like orionsim's.
 */
#include <simgrid/s4u.hpp>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace sg4 = simgrid::s4u;

struct Flow {
    std::string src, dst;
    uint64_t bytes;
    double start, begin; /* begin = start + one-way latency */
    std::string start_text;
    sg4::CommPtr comm;
};

static std::vector<Flow> flows;

static void die(const std::string &msg) {
    std::fprintf(stderr, "simgrid_flows: %s\n", msg.c_str());
    std::exit(2);
}

static void read_inputs(const std::string &dir) {
    std::ifstream lat(dir + "/latency.txt");
    if (!lat) die("cannot read " + dir + "/latency.txt");
    std::map<std::string, int> region;
    std::string a, b;
    while (lat >> a && a != "matrix") {
        int r;
        lat >> r;
        region[a] = r;
    }
    int n_regions = 0;
    for (auto &kv : region) n_regions = std::max(n_regions, kv.second + 1);
    std::vector<double> m((size_t)n_regions * (size_t)n_regions);
    for (double &x : m)
        if (!(lat >> x)) die("latency.txt: short matrix");
    std::ifstream csv(dir + "/flows.csv");
    if (!csv) die("cannot read " + dir + "/flows.csv");
    std::string line;
    std::getline(csv, line); /* header */
    while (std::getline(csv, line)) {
        std::stringstream ss(line);
        std::string id, src, dst, bytes, start;
        std::getline(ss, id, ',');
        std::getline(ss, src, ',');
        std::getline(ss, dst, ',');
        std::getline(ss, bytes, ',');
        std::getline(ss, start, ',');
        Flow f;
        f.src = src;
        f.dst = dst;
        f.bytes = std::strtoull(bytes.c_str(), nullptr, 10);
        f.start_text = start;
        f.start = std::strtod(start.c_str(), nullptr);
        f.begin = f.start + m[(size_t)region.at(src) * (size_t)n_regions + (size_t)region.at(dst)];
        flows.push_back(f);
    }
}

static void driver() {
    std::vector<size_t> order(flows.size());
    for (size_t i = 0; i < order.size(); i++) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [](size_t x, size_t y) { return flows[x].begin < flows[y].begin; });
    for (size_t i : order) {
        Flow &f = flows[i];
        if (f.begin > sg4::Engine::get_clock()) sg4::this_actor::sleep_until(f.begin);
        f.comm =
            sg4::Comm::sendto_async(sg4::Host::by_name(f.src), sg4::Host::by_name(f.dst), f.bytes);
    }
    for (Flow &f : flows) f.comm->wait();
}

int main(int argc, char **argv) {
    if (argc < 2) die("usage: simgrid_flows DIR [--cfg=...]");
    std::string dir = argv[1];
    std::vector<char *> args = {argv[0]};
    static char c1[] = "--cfg=network/model:CM02", c2[] = "--cfg=network/latency-factor:1",
                c3[] = "--cfg=network/bandwidth-factor:1", c4[] = "--cfg=network/weight-S:0",
                c5[] = "--cfg=maxmin/precision:1e-9", c6[] = "--cfg=network/crosstraffic:0",
                c7[] = "--log=root.thres:critical";
    for (char *c : {c1, c2, c3, c4, c5, c6, c7}) args.push_back(c);
    for (int i = 2; i < argc; i++) args.push_back(argv[i]);
    int n = (int)args.size();
    sg4::Engine e(&n, args.data());
    e.load_platform(dir + "/platform.xml");
    read_inputs(dir);
    sg4::Actor::create("driver", sg4::Host::by_name(flows.empty() ? "store" : flows[0].src),
                       driver);
    e.run();
    std::string out = "flow,src,dst,bytes,start_s,finish_s\n";
    char buf[64];
    for (size_t i = 0; i < flows.size(); i++) {
        const Flow &f = flows[i];
        std::snprintf(buf, sizeof buf, "%.9f", f.comm->get_finish_time());
        out += std::to_string(i) + "," + f.src + "," + f.dst + "," + std::to_string(f.bytes) + "," +
               f.start_text + "," + buf + "\n";
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
}
