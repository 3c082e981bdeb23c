// Bring-up and tasks shared by the ESP32-C3 and ESP32-C6 firmware, pasted into each
// `main.rs` with `include!` after the chip's constants: `HEAP_RECLAIMED`, `HEAP_MAIN` and
// `SOCKETS`, and its `app` module (`app::server`, `app::client`). The chip itself comes from
// the esp-hal, esp-radio and esp-rtos features of the project including it.

use embassy_executor::Spawner;
use embassy_net::{Runner, Stack, StackResources};
use embassy_time::{Duration, Timer};
use esp_backtrace as _;
use esp_hal::clock::CpuClock;
use esp_hal::rng::Rng;
use esp_hal::timer::timg::TimerGroup;
use esp_radio::wifi::sta::StationConfig;
use esp_radio::wifi::{AuthenticationMethodConfig, Config, ControllerConfig, Interface, WifiController};
use log::{info, warn};
use static_cell::StaticCell;

// The application descriptor ESP-IDF's second-stage bootloader checks before it starts us.
esp_bootloader_esp_idf::esp_app_desc!();

/// The network to join, from the build environment (`SSID=...`).
const SSID: &str = match option_env!("SSID") {
    Some(ssid) => ssid,
    None => "tern",
};

/// Its WPA2 password (`PASSWORD=...`); empty joins an open network.
const PASSWORD: &str = match option_env!("PASSWORD") {
    Some(password) => password,
    None => "",
};

#[esp_rtos::main]
async fn main(spawner: Spawner) -> ! {
    esp_println::logger::init_logger_from_env();
    let peripherals = esp_hal::init(esp_hal::Config::default().with_cpu_clock(CpuClock::max()));

    // RAM the second-stage bootloader used, reclaimed once it is done, then ordinary RAM.
    esp_alloc::heap_allocator!(#[esp_hal::ram(reclaimed)] size: HEAP_RECLAIMED);
    esp_alloc::heap_allocator!(size: HEAP_MAIN);

    // The scheduler (and embassy-time's driver) must run before the radio starts.
    let timg0 = TimerGroup::new(peripherals.TIMG0);
    esp_rtos::start(timg0.timer0, peripherals.FROM_CPU_INTR0);
    info!("{} {} up, joining {SSID:?}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"));

    let station = Config::Station(StationConfig::default().with_ssid(ssid()).with_authentication(authentication()));
    let controller =
        match WifiController::new(peripherals.WIFI, ControllerConfig::default().with_initial_config(station)) {
            Ok(controller) => controller,
            Err(e) => panic!("Wi-Fi init failed: {e:?}"),
        };
    let device = Interface::station();

    // The radio is on, so the hardware RNG draws on RF noise: a fine seed for TCP sequence
    // numbers and DHCP transaction ids.
    let rng = Rng::new();
    let seed = u64::from(rng.random()) << 32 | u64::from(rng.random());
    static RESOURCES: StaticCell<StackResources<SOCKETS>> = StaticCell::new();
    let (stack, runner) = embassy_net::new(
        device,
        embassy_net::Config::dhcpv4(Default::default()),
        RESOURCES.init(StackResources::new()),
        seed,
    );

    spawner.spawn(wifi_task(controller).unwrap_or_else(|e| panic!("spawn wifi_task: {e:?}")));
    spawner.spawn(net_task(runner).unwrap_or_else(|e| panic!("spawn net_task: {e:?}")));

    stack.wait_config_up().await;
    if let Some(config) = stack.config_v4() {
        info!("network up: address {}, gateway {:?}, dns {:?}", config.address, config.gateway, config.dns_servers);
    }

    spawner.spawn(server_task(stack).unwrap_or_else(|e| panic!("spawn server_task: {e:?}")));
    spawner.spawn(client_task(stack).unwrap_or_else(|e| panic!("spawn client_task: {e:?}")));

    loop {
        Timer::after(Duration::from_secs(60)).await;
        let stats = esp_alloc::HEAP.stats();
        info!("heap: {} bytes used, {} free", stats.current_usage, stats.size - stats.current_usage);
    }
}

fn ssid() -> esp_radio::wifi::Ssid {
    SSID.try_into().unwrap_or_else(|_| panic!("SSID {SSID:?} is longer than 32 bytes"))
}

fn authentication() -> AuthenticationMethodConfig {
    if PASSWORD.is_empty() {
        return AuthenticationMethodConfig::Open;
    }
    let password = PASSWORD.try_into().unwrap_or_else(|_| panic!("PASSWORD is longer than 64 bytes"));
    AuthenticationMethodConfig::Wpa2Personal(password)
}

/// Keeps the station connected: connects, waits for a disconnection, retries.
#[embassy_executor::task]
async fn wifi_task(mut controller: WifiController<'static>) -> ! {
    loop {
        match controller.connect_async().await {
            Ok(connected) => {
                info!("Wi-Fi connected to {:?} on channel {}", connected.ssid.as_str(), connected.channel);
                match controller.wait_for_disconnect_async().await {
                    Ok(gone) => warn!("Wi-Fi disconnected: {:?}", gone.reason),
                    Err(e) => warn!("Wi-Fi: {e:?}"),
                }
            }
            Err(e) => warn!("Wi-Fi connect to {SSID:?} failed: {e:?}"),
        }
        Timer::after(Duration::from_secs(5)).await;
    }
}

/// Runs the network stack.
#[embassy_executor::task]
async fn net_task(mut runner: Runner<'static, Interface>) -> ! {
    runner.run().await
}

#[embassy_executor::task]
async fn server_task(stack: Stack<'static>) {
    app::server(stack).await;
}

#[embassy_executor::task]
async fn client_task(stack: Stack<'static>) {
    app::client(stack).await;
}
