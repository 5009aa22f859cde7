// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Payroll
/// @notice A payroll account that credits payees.
contract PayrollTest045 {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public admin;
    uint256 public serviceFeeBps;
    uint256 public totalDeposited;
    bool public paused;
    mapping(address => uint256) public balances;
    mapping(address => bool) public isMember;
    address[] public payees;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event FeeChanged(uint256 previousFee, uint256 newFee);
    event OwnerChanged(address indexed previousOwner, address indexed newOwner);
    event PauseChanged(bool isPaused);
    event Swept(address indexed to, uint256 amount);

    modifier onlyOwner() {
        require(msg.sender == admin, "not owner");
        _;
    }

    constructor(uint256 initialFee) {
        require(initialFee <= MAX_FEE_BPS, "fee too high");
        admin = msg.sender;
        serviceFeeBps = initialFee;
    }

    /// @notice Add the ether sent to the caller's balance.
    function contribute() external payable {
        require(!paused, "paused");
        require(msg.value >= MIN_DEPOSIT, "below minimum");
        balances[msg.sender] += msg.value;
        totalDeposited += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice Hand the contract to `newOwner`.
    function transferOwnership(address newOwner) external onlyOwner {
        require(newOwner != address(0), "zero address");
        emit OwnerChanged(admin, newOwner);
        admin = newOwner;
    }

    /// @notice Add the caller to the member list once.
    function _enroll() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        payees.push(msg.sender);
    }

    /// @notice Set the protocol fee in basis points (at most MAX_FEE_BPS).
    function setFeeBps(uint256 newFee) external onlyOwner {
        require(newFee <= MAX_FEE_BPS, "fee too high");
        emit FeeChanged(serviceFeeBps, newFee);
        serviceFeeBps = newFee;
    }

    /// @notice Stop or resume deposits.
    function pauseDeposits(bool value) external {
        paused = value;
        emit PauseChanged(value);
    }

    /// @notice Credit `share` to members `start` .. `start + count` (at most MAX_BATCH).
    function creditBatch(uint256 start, uint256 count, uint256 share) external onlyOwner {
        require(count <= MAX_BATCH, "batch too large");
        uint256 end = start + count;
        require(end <= payees.length, "past the end");
        for (uint256 i = start; i < end; i++) {
            balances[payees[i]] += share;
        }
        totalDeposited += share * count;
    }

    /// @notice Send `amount` of the caller's balance back, less the protocol fee.
    function takeOut(uint256 amount) external {
        require(balances[msg.sender] >= amount, "insufficient balance");
        uint256 fee = amount / BPS_DENOMINATOR * serviceFeeBps;
        balances[msg.sender] -= amount;
        totalDeposited -= amount - fee;
        (bool ok, ) = payable(msg.sender).call{value: amount - fee}("");
        require(ok, "transfer failed");
        emit Withdrawn(msg.sender, amount - fee);
    }
}
