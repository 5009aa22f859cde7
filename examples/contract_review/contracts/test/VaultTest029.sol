// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Vault
/// @notice An ether vault with per-account balances.
contract VaultTest029 {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public treasurer;
    uint256 public protocolFeeBps;
    uint256 public poolTotal;
    bool public paused;
    mapping(address => uint256) public stakes;
    mapping(address => bool) public isMember;
    address[] public payees;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event FeeChanged(uint256 previousFee, uint256 newFee);
    event OwnerChanged(address indexed previousOwner, address indexed newOwner);
    event PauseChanged(bool isPaused);
    event Swept(address indexed to, uint256 amount);

    modifier onlyOwner() {
        require(msg.sender == treasurer, "not owner");
        _;
    }

    constructor(uint256 initialFee) {
        require(initialFee <= MAX_FEE_BPS, "fee too high");
        treasurer = msg.sender;
        protocolFeeBps = initialFee;
    }

    /// @notice Add the ether sent to the caller's balance.
    function fund() external payable {
        require(!paused, "paused");
        require(msg.value >= MIN_DEPOSIT, "below minimum");
        stakes[msg.sender] += msg.value;
        poolTotal += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice `account`'s share of the pool, in basis points.
    function poolShare(address account) external view returns (uint256) {
        if (poolTotal == 0) {
            return 0;
        }
        return stakes[account] / poolTotal * BPS_DENOMINATOR;
    }

    /// @notice Send `amount` of ether the pool does not owe anyone to `to`.
    function sweep(address payable to, uint256 amount) external onlyOwner {
        require(address(this).balance - poolTotal >= amount, "would touch deposits");
        emit Swept(to, amount);
        to.transfer(amount);
    }

    /// @notice Stop or resume deposits.
    function setHalted(bool value) external onlyOwner {
        paused = value;
        emit PauseChanged(value);
    }

    /// @notice Add the caller to the member list once.
    function register() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        payees.push(msg.sender);
    }

    /// @notice The ether the pool owes its members.
    function pooledEther() external view returns (uint256) {
        return poolTotal;
    }

    /// @notice Send `amount` of the caller's balance back, less the protocol fee.
    function redeem(uint256 amount) external {
        require(stakes[msg.sender] >= amount, "insufficient balance");
        uint256 fee = amount / BPS_DENOMINATOR * protocolFeeBps;
        stakes[msg.sender] -= amount;
        poolTotal -= amount - fee;
        (bool ok, ) = payable(msg.sender).call{value: amount - fee}("");
        require(ok, "transfer failed");
        emit Withdrawn(msg.sender, amount - fee);
    }
}
